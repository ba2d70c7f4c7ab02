"""The results page's charts: one horizontal bar chart per rating or choice question, drawn on
the server as SVG (``partners.charts``), with the same figures as a table beneath; free text
gets none. The labels are the choices in the reader's language."""

from __future__ import annotations

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from federation.campaigns.models import SurveyQuestion
from partners.charts.bars import bar_chart
from partners.charts.base import Chart

Kind = SurveyQuestion.Kind


def _label(question: SurveyQuestion, value: str, japanese: bool) -> str:
    if question.kind == Kind.RATING:
        return "★" * int(value)
    choice = question.choices[int(value)]
    return str(choice["ja"] if japanese else choice["en"])


def question_charts(
    questions: list[SurveyQuestion], tallies: dict[int, dict[str, int]]
) -> list[Chart]:
    """A chart of each rating or choice question's distribution, in survey order."""
    japanese = (get_language() or "").startswith("ja")
    charts = []
    for question in questions:
        if question.kind == Kind.TEXT:
            continue
        tally = tallies[question.position]
        text = question.text_ja if japanese else question.text_en
        charts.append(
            bar_chart(
                title=f"{question.position}. {text}",
                labels=[_label(question, value, japanese) for value in tally],
                values=list(tally.values()),
                label_header=_("answer"),
                value_header=_("members"),
            )
        )
    return charts
