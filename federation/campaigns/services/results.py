"""A campaign's results for its partner: aggregates only, under the overlap's disclosure rules
(minimum cell, noise, question budget), never a member's identity nor one member's row of
answers. Free text, already scrubbed when answered, is shown only when enough members wrote
some, and in an order that says nothing of who wrote what."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from federation.campaigns.models import Campaign, SurveyAnswer, SurveyQuestion
from federation.campaigns.segment import AGE_BANDS
from federation.campaigns.services.common import SURVEY, require_state, terms_for
from federation.campaigns.services.tallies import Tallies, exact_tallies
from federation.errors import FederationErrorCode
from federation.overlap.models import OverlapQuery
from federation.overlap.services import spend_a_question, suppress_small_cells
from federation.overlap.terms import effective_min_cell
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import MemberAccount

BREAKDOWN = "campaign_results"
Kind = SurveyQuestion.Kind
__all__ = ["BREAKDOWNS", "QuestionResult", "Results", "campaign_results", "exact_tallies"]
# The segment cells results may be broken down by, one at a time, with their vocabularies.
BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "age_band": AGE_BANDS,
    "kind": tuple(MemberAccount.Kind.values),
}


@dataclass(frozen=True)
class QuestionResult:
    question: SurveyQuestion
    answered: int | None  # None: withheld
    cells: dict[str, int | None]  # the value → how many chose it; None where withheld
    texts: list[str] | None  # free text only, None when withheld


@dataclass(frozen=True)
class SegmentResult:
    segment: str  # an age band or a member kind
    respondents: int | None  # None: the whole cell withheld
    questions: list[QuestionResult]  # empty when withheld; free text never shown per cell


@dataclass(frozen=True)
class Results:
    respondents: int | None
    selected: int
    min_cell: int
    questions: list[QuestionResult]
    segments: list[SegmentResult] = field(default_factory=list)


def _shown(
    question: SurveyQuestion, tally: dict[str, int], respondents: int, min_cell: int
) -> tuple[int | None, dict[str, int | None]]:
    """The overlap's suppression of one question's cells. A multiple choice's cells do not
    add up to its total, so each choice is suppressed as its own pair (chose it, did not), so
    that neither a small "chose" nor a small "did not" shows."""
    if question.kind != Kind.MULTIPLE:
        return suppress_small_cells(tally, min_cell)
    answered, _all = suppress_small_cells({"all": respondents}, min_cell)
    cells: dict[str, int | None] = {}
    for option, chose in tally.items():
        pair = suppress_small_cells({"chose": chose, "not": respondents - chose}, min_cell)[1]
        cells[option] = None if answered is None else pair["chose"]
    return answered, cells


def _questions_shown(
    questions: list[SurveyQuestion],
    tallies: Tallies,
    min_cell: int,
    *,
    with_texts: bool,
) -> tuple[list[QuestionResult], int]:
    """Each question as shown, and how many of its cells were withheld."""
    respondents, counts, texts = tallies
    results, withheld = [], 0
    for question in questions:
        answered, cells = _shown(question, counts[question.position], respondents, min_cell)
        if question.kind == Kind.TEXT:
            shown = texts[question.position] if with_texts and answered is not None else None
            results.append(QuestionResult(question, answered, {}, shown))
        else:
            results.append(QuestionResult(question, answered, cells, None))
        withheld += sum(1 for value in cells.values() if value is None)
    return results, withheld


def _segments(campaign: Campaign, breakdown: str, min_cell: int) -> list[SegmentResult]:
    """Each cell of ``breakdown`` (every value of its vocabulary, so a missing one says
    nothing), its respondents suppressed together like an overlap breakdown, and each shown
    cell's questions suppressed within it; free text is never shown per cell."""
    counted = dict(
        SurveyAnswer.objects.filter(campaign=campaign)
        .values(breakdown)
        .annotate(n=Count("pk"))
        .values_list(breakdown, "n")
    )
    vocabulary = BREAKDOWNS[breakdown]
    _total, shown = suppress_small_cells({v: counted.get(v, 0) for v in vocabulary}, min_cell)
    questions = list(campaign.questions.all())
    segments = []
    for value in vocabulary:
        if shown[value] is None:
            segments.append(SegmentResult(value, None, []))
            continue
        tallies = exact_tallies(campaign, cell=(breakdown, value))
        results, _withheld = _questions_shown(questions, tallies, min_cell, with_texts=False)
        segments.append(SegmentResult(value, shown[value], results))
    return segments


def campaign_results(*, campaign: Campaign, actor: Actor, breakdown: str = "") -> Results:
    """The partner's view of the answers, and with ``breakdown`` (``age_band`` or ``kind``,
    one at a time) the same per segment cell. Each call is a question of the partner's budget
    about the host's base, logged with the overlap questions. Raises ApplicationError:
    campaign_state (before the survey), no_agreement, rate_limited, disclosure_refused (an
    unknown breakdown)."""
    if breakdown and breakdown not in BREAKDOWNS:
        raise ApplicationError(
            FederationErrorCode.DISCLOSURE_REFUSED,
            _("Break results down by one of: %(choices)s.") % {"choices": ", ".join(BREAKDOWNS)},
        )
    require_state(campaign, Campaign.State.SURVEYING, Campaign.State.CLOSED)
    terms = terms_for(campaign.host, campaign.partner, SURVEY)
    min_cell = effective_min_cell(terms.min_cell)
    with transaction.atomic():
        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        spend_a_question(campaign.partner, campaign.host)
        tallies = exact_tallies(campaign)
        shown_respondents, _cells = suppress_small_cells({"all": tallies[0]}, min_cell)
        questions = list(campaign.questions.all())
        results, withheld = _questions_shown(questions, tallies, min_cell, with_texts=True)
        segments = _segments(campaign, breakdown, min_cell) if breakdown else []
        OverlapQuery.objects.create(
            asker=campaign.partner,
            other=campaign.host,
            agreement=terms.agreement,
            breakdown=f"campaign_{breakdown}" if breakdown else BREAKDOWN,
            min_cell=min_cell,
            cells=sum(len(r.cells) or 1 for r in results) + len(segments),
            suppressed=withheld + sum(1 for s in segments if s.respondents is None),
            asked_by=actor.label[:200],
        )
    return Results(shown_respondents, campaign.selected, min_cell, results, segments)
