"""The shipment list: who gets the product and where, for whoever ships it (the partner, or
the host's delivery staff, as the agreement's ``sampling`` terms say), with only the fields
shipping needs, decrypted at the moment of export, each member's provision recorded in
the same transaction, and the export itself logged. A member who withdrew consent before the
export is left out; one who withdraws after is told to the shipper by the withdrawal
propagation that already exists."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from consent.selectors import consented_member_ids
from consent.services import provision_record
from federation.campaigns.audit import CampaignAuditAction
from federation.campaigns.errors import CampaignErrorCode
from federation.campaigns.models import Campaign, CampaignMember
from federation.campaigns.services.common import SHIPPING, record, require_state, terms_for
from federation.campaigns.terms import HOST, shipper_of
from federation.errors import FederationErrorCode
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import MemberAccount, Partner
from partners.pii import pseudonym_for
from partners.services.member_records import open_member

SHIPPING_FIELDS = ("name", "postal_code", "address", "phone")
READY = (CampaignMember.Status.SELECTED, CampaignMember.Status.CONFIRMED)


def campaign_shipment_export(
    *, campaign: Campaign, actor: Actor, by: Partner | None = None
) -> list[dict[str, Any]]:
    """The members not yet in a shipment list, for ``by`` (the partner by default), which
    must be the shipper the agreement names (``federation.campaigns.terms``). For the partner:
    each under the pseudonymous id the partner has for it, with the shipping fields the
    agreement allows, a provision recorded for each. For the host's delivery staff: by member
    number, with every shipping field, and nothing provided to anyone. Raises
    ApplicationError: not_the_shipper, campaign_state, no_agreement."""
    terms = terms_for(campaign.host, campaign.partner, SHIPPING)
    shipper = shipper_of(terms.version.terms)
    by_host = by is not None and by.pk == campaign.host_id
    if (shipper == HOST) != by_host:
        raise ApplicationError(
            CampaignErrorCode.NOT_THE_SHIPPER, CampaignErrorCode.NOT_THE_SHIPPER.label
        )
    fields = SHIPPING_FIELDS if by_host else _agreed(terms.fields)
    now = timezone.now()
    rows: list[dict[str, Any]] = []
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        require_state(campaign, Campaign.State.SELECTING, Campaign.State.SHIPPING)
        exported = []
        for drawn in _waiting(campaign):
            if by_host:
                row: dict[str, Any] | None = {
                    "member": drawn.member.member_number,
                    **open_member(drawn.member, fields),
                }
            else:
                row = _provide(drawn.member, campaign, fields, actor)
            if row is not None:
                rows.append(row)
                exported.append(drawn.pk)
        CampaignMember.objects.filter(pk__in=exported).update(exported_at=now)
        campaign.state, campaign.updated_at = Campaign.State.SHIPPING, now
        campaign.save(update_fields=["state", "updated_at"])
        record(
            CampaignAuditAction.EXPORTED,
            campaign,
            actor,
            event="campaigns.shipment_exported",
            members=len(rows),
            fields=list(fields),
            shipper=shipper,
        )
    return rows


def _agreed(allowed: tuple[str, ...]) -> tuple[str, ...]:
    fields = tuple(field for field in SHIPPING_FIELDS if field in allowed)
    if not fields:
        raise ApplicationError(
            FederationErrorCode.NO_AGREEMENT,
            FederationErrorCode.NO_AGREEMENT.label,
        )
    return fields


def _waiting(campaign: Campaign) -> QuerySet[CampaignMember]:
    """Drawn (and, invited first, confirmed), not in a list yet, active and consenting to the
    shipment now: a member who withdrew is left out."""
    return (
        CampaignMember.objects.filter(
            campaign=campaign,
            status__in=READY,
            exported_at=None,
            member__status=MemberAccount.Status.ACTIVE,
            member_id__in=consented_member_ids(purpose_code=SHIPPING, recipient=campaign.partner),
        )
        .select_related("member")
        .order_by("pk")
    )


def _provide(
    member: MemberAccount, campaign: Campaign, fields: tuple[str, ...], actor: Actor
) -> dict[str, Any] | None:
    """Record the provision, then decrypt: None when the consent went in the meantime (the
    provision's own check, under the consent's row lock)."""
    try:
        provision_record(
            member=member,
            recipient=campaign.partner,
            purpose_code=SHIPPING,
            data_items=fields,
            actor=actor,
        )
    except ApplicationError as refused:
        if refused.code == ErrorCode.PERMISSION_DENIED:
            return None
        raise
    personal = open_member(member, fields)
    return {"member": pseudonym_for(member.pk, campaign.partner_id), **personal}
