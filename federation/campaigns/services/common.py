"""What the campaign services share: the state gate, the agreement in force for a flow, the
audit row and webhook of each step, and the set of members a campaign may draw from."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.selectors import consent_in_force_sql
from federation.agreements.selectors import TermsInForce, terms_in_force
from federation.campaigns.audit import CampaignAuditAction
from federation.campaigns.errors import CampaignErrorCode
from federation.campaigns.models import Campaign, CampaignMember
from federation.campaigns.segment import segment_where
from federation.errors import FederationErrorCode
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import MemberAccount, Partner
from partners.services import audit_record, webhook_emit

SHIPPING = "sampling_shipment"
SURVEY = "research_survey"


def require_state(campaign: Campaign, *states: str) -> None:
    if campaign.state not in states:
        raise ApplicationError(
            CampaignErrorCode.CAMPAIGN_STATE,
            _("The campaign is %(state)s; this needs it %(wanted)s.")
            % {"state": campaign.state, "wanted": " or ".join(states)},
        )


def terms_for(host: Partner, partner: Partner, purpose: str) -> TermsInForce:
    """The terms in force letting ``host`` give ``partner`` its members' data for
    ``purpose``; raises ApplicationError no_agreement."""
    terms = terms_in_force(provider=host, recipient=partner, purpose=purpose)
    if terms is None:
        raise ApplicationError(
            FederationErrorCode.NO_AGREEMENT,
            _("No active agreement lets %(host)s give %(partner)s members for %(purpose)s.")
            % {"host": host.slug, "partner": partner.slug, "purpose": purpose},
        )
    return terms


def record(
    action: CampaignAuditAction,
    campaign: Campaign,
    actor: Actor,
    *,
    event: str | None = None,
    **detail: Any,
) -> None:
    """The audit row of a step, in the partner's log, and the partner's webhook when
    ``event`` is given (no personal data in either)."""
    audit_record(
        action=action, actor=actor, partner=campaign.partner, target=campaign, detail=detail
    )
    if event is not None:
        webhook_emit(
            partner=campaign.partner,
            event_type=event,
            data={"campaign_id": str(campaign.pk), "state": campaign.state, **detail},
        )


def db_value(value: Any) -> Any:
    """A UUID as the database stores it (SQLite keeps them as hex)."""
    if connection.vendor != "postgresql" and isinstance(value, uuid.UUID):
        return value.hex
    return value


def eligible_sql(campaign: Campaign, *, today: date) -> tuple[str, list[Any]]:
    """``FROM ... WHERE ...`` of the host's members a campaign may draw (member row ``a``):
    active, in the segment, consenting to ``sampling_shipment`` with the partner now, and not
    drawn for a campaign of the same category in ``SANPO_CAMPAIGN_COOLDOWN_DAYS``. The reach
    counts it and the draw samples it: one definition for both."""
    where, where_params = segment_where(campaign.segment, today=today)
    consent_ok, consent_params = consent_in_force_sql(
        member_column="a.id", purpose_code=SHIPPING, recipient=campaign.partner
    )
    members = MemberAccount._meta.db_table
    drawn = CampaignMember._meta.db_table
    campaigns = Campaign._meta.db_table
    sql = f"""
        FROM {members} a
        WHERE a.partner_id = %s AND a.status = %s AND {where} AND {consent_ok}
          AND NOT EXISTS (
            SELECT 1 FROM {drawn} d JOIN {campaigns} c ON c.id = d.campaign_id
            WHERE d.member_id = a.id AND c.category = %s AND c.id <> %s AND d.selected_at >= %s
          )
    """  # noqa: S608 - constants and the consent module's condition; values are parameters
    since = timezone.now() - timedelta(days=settings.SANPO_CAMPAIGN_COOLDOWN_DAYS)
    params = [
        db_value(campaign.host_id),
        MemberAccount.Status.ACTIVE,
        *where_params,
        *consent_params,
        campaign.category,
        db_value(campaign.pk),
        since,
    ]
    return sql, params
