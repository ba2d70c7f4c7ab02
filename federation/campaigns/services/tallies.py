"""A campaign's exact tallies: per question, how many chose each rating or choice (for free
text, how many wrote), and the scrubbed texts. One definition, ``tally``, read as two forms: on
PostgreSQL one ``GROUP BY`` per question over the answers' JSON, in a single query, so the
database counts 50,000 answers instead of Python reading them (see ``bench_campaigns``);
elsewhere (SQLite in the quick test runs) the answers are read and counted here. A test runs
both forms over the same answers and requires the same tallies."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from federation.campaigns.models import Campaign, SurveyAnswer, SurveyQuestion

Kind = SurveyQuestion.Kind
Tallies = tuple[int, dict[int, dict[str, int]], dict[int, list[str]]]


def options(question: SurveyQuestion) -> list[str]:
    """The values a question's tally counts, each shown even when no one chose it."""
    if question.kind == Kind.TEXT:
        return ["answered"]
    if question.kind == Kind.RATING:
        return [str(value) for value in range(1, 6)]
    return [str(index) for index in range(len(question.choices))]


def tally(question: SurveyQuestion, values: list[Any]) -> dict[str, int]:
    """How many chose each value (a rating or a choice); for free text, how many wrote."""
    if question.kind == Kind.TEXT:
        return {"answered": len(values)}
    counts: Counter[str] = Counter()
    for value in values:
        counts.update(str(choice) for choice in (value if isinstance(value, list) else [value]))
    return {option: counts[option] for option in options(question)}


SEGMENT_COLUMNS = ("age_band", "kind")  # what an answer records of its member, for the cells
Cell = tuple[str, str] | None  # (a segment column, its value): the answers of one cell


def exact_tallies(campaign: Campaign, *, in_sql: bool | None = None, cell: Cell = None) -> Tallies:
    """The respondents, the exact counts per question position and value, and the texts per
    text question in a random order, which says nothing of who wrote what (for the host's
    console, the promotion, and the partner's view, which withholds and adds noise).
    ``in_sql`` picks the form (default: SQL on PostgreSQL); ``cell`` limits them to the
    answers of members in one segment cell, such as ``("age_band", "30-39")``."""
    questions = list(campaign.questions.all())
    if cell is not None and cell[0] not in SEGMENT_COLUMNS:
        raise ValueError(f"Not a segment column: {cell[0]!r}")
    if in_sql is None:
        in_sql = connection.vendor == "postgresql"
    answers = SurveyAnswer.objects.filter(campaign=campaign)
    if cell is not None:
        answers = answers.filter(**{cell[0]: cell[1]})
    if not in_sql:
        return _in_python(answers, questions)
    counted = _counted_in_sql(campaign, questions, cell)
    tallies = {
        q.position: {option: counted.get((q.position, option), 0) for option in options(q)}
        for q in questions
    }
    texts: dict[int, list[str]] = {}
    for question in questions:
        if question.kind == Kind.TEXT:
            texts[question.position] = _texts_in_sql(campaign, question.position, cell)
            tallies[question.position] = {"answered": len(texts[question.position])}
    return answers.count(), tallies, texts


def _in_python(answers: QuerySet[SurveyAnswer], questions: list[SurveyQuestion]) -> Tallies:
    rows = list(answers.values_list("answers", flat=True))
    tallies, texts = {}, {}
    for question in questions:
        key = str(question.position)
        values = [row[key] for row in rows if key in row]
        tallies[question.position] = tally(question, values)
        if question.kind == Kind.TEXT:
            texts[question.position] = random.sample(values, len(values))
    return len(rows), tallies, texts


_TABLE = SurveyAnswer._meta.db_table


def _in_cell(cell: Cell) -> tuple[str, list[Any]]:
    """The condition limiting answers to ``cell`` (its column one of ``SEGMENT_COLUMNS``)."""
    if cell is None:
        return "", []
    return f" AND {cell[0]} = %s", [cell[1]]


def _counted_in_sql(
    campaign: Campaign, questions: list[SurveyQuestion], cell: Cell
) -> dict[tuple[int, str], int]:
    """``tally`` in one query: a GROUP BY per rating or choice question, the multiple
    choices unnested (free text is counted as it is read)."""
    parts: list[str] = []
    params: list[Any] = []
    in_cell, cell_params = _in_cell(cell)
    for question in questions:
        key = str(question.position)
        if question.kind == Kind.TEXT:
            continue  # counted as its texts are read
        if question.kind == Kind.MULTIPLE:
            value = "v.value"
            source = (
                f"{_TABLE} CROSS JOIN LATERAL"
                " jsonb_array_elements_text(answers -> %s::text) AS v(value)"
                f" WHERE campaign_id = %s{in_cell}"
            )
        else:
            value, source = "answers ->> %s::text", f"{_TABLE} WHERE campaign_id = %s{in_cell}"
        params += [question.position, key, campaign.pk, *cell_params]
        parts.append(f"SELECT %s, {value}, count(*) FROM {source} GROUP BY 2")  # noqa: S608
    if not parts:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return {(int(position), str(value)): count for position, value, count in cursor}


def _texts_in_sql(campaign: Campaign, position: int, cell: Cell) -> list[str]:
    in_cell, cell_params = _in_cell(cell)
    with connection.cursor() as cursor:
        sql = f"SELECT answers ->> %s::text FROM {_TABLE} WHERE campaign_id = %s"  # noqa: S608
        cursor.execute(
            f"{sql}{in_cell} AND answers ? %s::text ORDER BY random()",
            [str(position), campaign.pk, *cell_params, str(position)],
        )
        return [text for (text,) in cursor.fetchall()]
