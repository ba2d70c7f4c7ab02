"""How many members a campaign's segment reaches, as a count under the overlap's disclosure
rules (``federation.overlap.services``): its minimum cell, its noise, and its question budget,
which a reach question spends like an overlap question about the host's base."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from federation.campaigns.audit import CampaignAuditAction
from federation.campaigns.models import Campaign
from federation.campaigns.services.common import (
    SHIPPING,
    eligible_sql,
    record,
    require_state,
    terms_for,
)
from federation.overlap.models import OverlapQuery
from federation.overlap.services import spend_a_question, suppress_small_cells
from federation.overlap.terms import effective_min_cell
from partners.actors import Actor

BREAKDOWN = "campaign_reach"  # how a reach question is logged among the overlap questions


@dataclass(frozen=True)
class Reach:
    count: int | None  # None: withheld
    min_cell: int


def eligible_count(campaign: Campaign) -> int:
    """The exact number of members the draw could take now (never shown as such)."""
    sql, params = eligible_sql(campaign, today=timezone.localdate())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) {sql}", params)
        return int(cursor.fetchone()[0])


def campaign_reach(*, campaign: Campaign, actor: Actor) -> Reach:
    """The segment's reach as the partner may see it: with the overlap's noise, withheld
    (None) below the agreement's minimum cell, and one question of the partner's budget about
    the host's base. Raises ApplicationError: campaign_state (decided), no_agreement,
    rate_limited."""
    require_state(campaign, Campaign.State.DRAFT, Campaign.State.PROPOSED)
    terms = terms_for(campaign.host, campaign.partner, SHIPPING)
    min_cell = effective_min_cell(terms.min_cell)
    with transaction.atomic():
        # The campaign's row, locked: its questions count against the budget one at a time.
        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        spend_a_question(campaign.partner, campaign.host)
        total, _cells = suppress_small_cells({"all": eligible_count(campaign)}, min_cell)
        OverlapQuery.objects.create(
            asker=campaign.partner,
            other=campaign.host,
            agreement=terms.agreement,
            breakdown=BREAKDOWN,
            min_cell=min_cell,
            cells=1,
            suppressed=int(total is None),
            asked_by=actor.label[:200],
        )
        record(CampaignAuditAction.REACH_ASKED, campaign, actor, withheld=total is None)
    return Reach(count=total, min_cell=min_cell)
