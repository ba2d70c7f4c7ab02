"""A campaign's results for its partner: aggregates only, under the overlap's disclosure rules
(minimum cell, noise, question budget), never a member's identity nor one member's row of
answers. Free text, already scrubbed when answered, is shown only when enough members wrote
some, and in an order that says nothing of who wrote what."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from federation.campaigns.models import Campaign, SurveyQuestion
from federation.campaigns.services.common import SURVEY, require_state, terms_for
from federation.campaigns.services.tallies import exact_tallies
from federation.overlap.models import OverlapQuery
from federation.overlap.services import spend_a_question, suppress_small_cells
from federation.overlap.terms import effective_min_cell
from partners.actors import Actor

BREAKDOWN = "campaign_results"
Kind = SurveyQuestion.Kind
__all__ = ["QuestionResult", "Results", "campaign_results", "exact_tallies"]


@dataclass(frozen=True)
class QuestionResult:
    question: SurveyQuestion
    answered: int | None  # None: withheld
    cells: dict[str, int | None]  # the value → how many chose it; None where withheld
    texts: list[str] | None  # free text only, None when withheld


@dataclass(frozen=True)
class Results:
    respondents: int | None
    selected: int
    min_cell: int
    questions: list[QuestionResult]


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


def campaign_results(*, campaign: Campaign, actor: Actor) -> Results:
    """The partner's view of the answers. Each call is a question of the partner's budget
    about the host's base, logged with the overlap questions. Raises ApplicationError:
    campaign_state (before the survey), no_agreement, rate_limited."""
    require_state(campaign, Campaign.State.SURVEYING, Campaign.State.CLOSED)
    terms = terms_for(campaign.host, campaign.partner, SURVEY)
    min_cell = effective_min_cell(terms.min_cell)
    with transaction.atomic():
        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        spend_a_question(campaign.partner, campaign.host)
        respondents, tallies, texts = exact_tallies(campaign)
        shown_respondents, _cells = suppress_small_cells({"all": respondents}, min_cell)
        results, withheld = [], 0
        for question in campaign.questions.all():
            answered, cells = _shown(question, tallies[question.position], respondents, min_cell)
            if question.kind == Kind.TEXT:
                shown = None if answered is None else texts[question.position]
                results.append(QuestionResult(question, answered, {}, shown))
            else:
                results.append(QuestionResult(question, answered, cells, None))
            withheld += sum(1 for value in cells.values() if value is None)
        OverlapQuery.objects.create(
            asker=campaign.partner,
            other=campaign.host,
            agreement=terms.agreement,
            breakdown=BREAKDOWN,
            min_cell=min_cell,
            cells=sum(len(r.cells) or 1 for r in results),
            suppressed=withheld,
            asked_by=actor.label[:200],
        )
    return Results(shown_respondents, campaign.selected, min_cell, results)
