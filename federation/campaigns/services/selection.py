"""The draw of a campaign's members, set-based: one INSERT ... SELECT over the members the
campaign may draw (``eligible_sql``) but its holdout (``federation.holdouts``: recorded at the
draw, ``SANPO_HOLDOUT_PERCENT`` of the eligible never contacted, to measure the campaign),
ordered by a hash of the recorded seed and the member's id, so the same seed over the same
members draws the same sample. The held-out eligible members are recorded
(``CampaignHoldoutMember``): the group the drawn members are measured against."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from federation.campaigns.audit import CampaignAuditAction
from federation.campaigns.errors import CampaignErrorCode
from federation.campaigns.models import Campaign, CampaignHoldoutMember, CampaignMember
from federation.campaigns.services.common import db_value, eligible_sql, record, require_state
from federation.holdouts.models import Holdout
from federation.holdouts.selectors import held_out_sql
from federation.holdouts.services import holdout_for
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import MemberAccount


def campaign_key(campaign: Campaign) -> str:
    """The holdout key of a campaign: its eligible members held out are never drawn."""
    return f"campaign:{campaign.pk}"


def campaign_select(*, campaign: Campaign, actor: Actor) -> Campaign:
    """Draw up to ``quantity`` members of an approved campaign (selected, or invited when it
    invites first), and move it to selecting. Raises ApplicationError: campaign_state."""
    now = timezone.now()
    status = (
        CampaignMember.Status.INVITED
        if campaign.selection == Campaign.Selection.INVITE
        else CampaignMember.Status.SELECTED
    )
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        require_state(campaign, Campaign.State.APPROVED)
        holdout = holdout_for(
            kind=Holdout.Kind.CAMPAIGN, key=campaign_key(campaign), company=campaign.partner
        )
        drawn, held_out = _draw(campaign, status, now, holdout)
        campaign.state, campaign.selected, campaign.updated_at = (
            Campaign.State.SELECTING,
            drawn,
            now,
        )
        campaign.save(update_fields=["state", "selected", "updated_at"])
        record(
            CampaignAuditAction.SELECTED,
            campaign,
            actor,
            event="campaigns.selected",
            selected=drawn,
            held_out=held_out,
            seed=campaign.seed,
        )
    return campaign


def _draw(campaign: Campaign, status: str, now: datetime, holdout: Holdout) -> tuple[int, int]:
    """Insert the members drawn and record the eligible members held out, in one scan of the
    eligible members on PostgreSQL (a data-modifying CTE; SQLite, which has none, scans twice).
    Returns how many were drawn and how many held out."""
    source, params = eligible_sql(campaign, today=timezone.localdate())
    held, held_params = held_out_sql(holdout, "a.id")
    members, kept_out = CampaignMember._meta.db_table, CampaignHoldoutMember._meta.db_table
    pk = db_value(campaign.pk)
    draw: list[Any] = [pk, status, now]
    order: list[Any] = [campaign.seed, campaign.quantity]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""
                WITH eligible AS MATERIALIZED (SELECT a.id, ({held}) AS held {source}),
                kept_out AS (
                    INSERT INTO {kept_out} (campaign_id, member_id)
                    SELECT %s, id FROM eligible WHERE held
                )
                INSERT INTO {members} (campaign_id, member_id, status, selected_at)
                SELECT %s, id, %s, %s FROM eligible WHERE NOT held
                ORDER BY md5(%s || CAST(id AS text)) LIMIT %s
                """,  # noqa: S608 - table names and the eligibility module's SQL; values are parameters
                [*held_params, *params, pk, *draw, *order],
            )
            drawn = cursor.rowcount
            return drawn, CampaignHoldoutMember.objects.filter(campaign_id=campaign.pk).count()
        draw_sql = f"""
            INSERT INTO {members} (campaign_id, member_id, status, selected_at)
            SELECT %s, a.id, %s, %s {source} AND NOT ({held})
            ORDER BY md5(%s || CAST(a.id AS text)) LIMIT %s
        """
        cursor.execute(draw_sql, [*draw, *params, *held_params, *order])
        drawn = cursor.rowcount
        held_sql = f"""
            INSERT INTO {kept_out} (campaign_id, member_id) SELECT %s, a.id {source} AND ({held})
        """
        cursor.execute(held_sql, [pk, *params, *held_params])
        return drawn, cursor.rowcount


def campaign_member_confirm(
    *, campaign: Campaign, member: MemberAccount, actor: Actor
) -> CampaignMember:
    """An invited member confirms (the host's portal reports it); confirming again changes
    nothing. Raises ApplicationError: not_in_campaign, campaign_state."""
    with transaction.atomic():
        drawn = (
            CampaignMember.objects.select_for_update()
            .filter(campaign=campaign, member=member)
            .first()
        )
        if drawn is None or drawn.status == CampaignMember.Status.SELECTED:
            raise ApplicationError(
                CampaignErrorCode.NOT_IN_CAMPAIGN, _("The member was not invited to it.")
            )
        require_state(campaign, Campaign.State.SELECTING, Campaign.State.SHIPPING)
        if drawn.status == CampaignMember.Status.CONFIRMED:
            return drawn
        drawn.status, drawn.confirmed_at = CampaignMember.Status.CONFIRMED, timezone.now()
        drawn.save(update_fields=["status", "confirmed_at"])
        record(CampaignAuditAction.CONFIRMED, campaign, actor, campaign_member=drawn.pk)
    return drawn
