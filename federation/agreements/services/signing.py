"""Signing agreements: a draft proposed to its parties, a proposal withdrawn, and each party's
signature, the last of which makes the version signed (and a new agreement active)."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from federation.agreements.models import Agreement, AgreementParty, AgreementVersion
from federation.agreements.services import common
from federation.agreements.services.drafting import clean_version, drafted
from federation.audit import FederationAuditAction
from partners.actors import Actor
from partners.errors import not_found
from partners.models import Partner
from partners.services import partner_grant


def version_propose(
    *, version: AgreementVersion, actor: Actor, today: date | None = None
) -> AgreementVersion:
    """Fix a draft's terms and ask every party to sign. The date it takes effect may not be in
    the past: terms are never agreed retroactively."""
    today = today or timezone.localdate()
    with transaction.atomic():
        agreement = common.locked(version.agreement_id)
        version = AgreementVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != AgreementVersion.Status.DRAFT:
            raise common.conflict(_("Only a draft can be proposed."))
        if agreement.has_ended:
            raise common.conflict(_("An agreement that has ended cannot be amended."))
        draft = drafted(version)
        # The terms are checked again: a purpose or a company may have changed since drafting,
        # and the date may have passed.
        clean_version(agreement.host, draft, today=today)
        version.status = AgreementVersion.Status.PROPOSED
        version.proposed_at = timezone.now()
        version.save(update_fields=["status", "proposed_at"])
        for party in draft["parties"]:
            partner_grant(partner=party.partner, obj=agreement, perms=("view",), actor=actor)
        if agreement.status == Agreement.Status.DRAFT:
            common.set_status(agreement, Agreement.Status.PROPOSED)
        version.agreement = agreement
        common.tell_parties(version, "agreement.proposed")
        common.audit_agreement(
            FederationAuditAction.AGREEMENT_PROPOSED, actor, agreement, version=version.number
        )
    return version


def version_withdraw(*, version: AgreementVersion, actor: Actor) -> AgreementVersion:
    """Take back a draft or a proposal before every party signed; signatures given lapse."""
    with transaction.atomic():
        agreement = common.locked(version.agreement_id)
        version = AgreementVersion.objects.select_for_update().get(pk=version.pk)
        if version.status not in AgreementVersion.OPEN:
            raise common.conflict(_("Only a draft or a proposal can be withdrawn."))
        was_proposed = version.status == AgreementVersion.Status.PROPOSED
        version.status = AgreementVersion.Status.WITHDRAWN
        version.save(update_fields=["status"])
        signed_before = agreement.versions.filter(status=AgreementVersion.Status.SIGNED).exists()
        if agreement.status == Agreement.Status.PROPOSED and not signed_before:
            common.set_status(agreement, Agreement.Status.DRAFT)
        if was_proposed:
            version.agreement = agreement
            common.tell_parties(version, "agreement.withdrawn")
        common.audit_agreement(
            FederationAuditAction.AGREEMENT_WITHDRAWN, actor, agreement, version=version.number
        )
    return version


def version_sign(
    *,
    version: AgreementVersion,
    partner: Partner,
    signed_by: str,
    actor: Actor,
    now: datetime | None = None,
) -> AgreementVersion:
    """Record ``partner``'s signature of a proposed version. The last signature makes it
    signed; it is in force from its date (or from that signature, if later) while the
    agreement is active. Signing twice changes nothing.

    Raises ApplicationError: not_found if the partner is not a party to this version (callers
    reach versions only through ``federation.access``, so this is a second line), conflict if
    the version is not awaiting signatures.
    """
    now = now or timezone.now()
    if not signed_by.strip():
        raise common.invalid({"signed_by": [_("Say who signs for the company.")]})
    with transaction.atomic():
        agreement = common.locked(version.agreement_id)
        version = AgreementVersion.objects.select_for_update().get(pk=version.pk)
        party = version.parties.select_for_update().filter(partner=partner).first()
        if party is None:
            raise not_found(_("agreement version"))
        if party.signed_at is not None:
            return version
        if version.status != AgreementVersion.Status.PROPOSED:
            raise common.conflict(_("This version is not awaiting signatures."))
        if agreement.has_ended:
            raise common.conflict(_("This agreement has ended."))
        _sign(party, signed_by, actor, now)
        version.agreement = agreement
        common.tell_parties(version, "agreement.signed", signed_by_party=partner.slug)
        common.audit_agreement(
            FederationAuditAction.AGREEMENT_SIGNED,
            actor,
            agreement,
            partner=partner,
            version=version.number,
            signed_by=party.signed_by,
        )
        if not version.parties.filter(signed_at__isnull=True).exists():
            _seal(version, now)
    return version


def _sign(party: AgreementParty, signed_by: str, actor: Actor, now: datetime) -> None:
    party.signed_at = now
    # Every party reads this: name the channel, not the key (the audit log has the key). It is
    # stored, so in English, as the signatory's own words are stored as given.
    how = "through the API" if actor.api_key is not None else f"recorded by {actor.label}"
    party.signed_by = f"{signed_by.strip()[:120]} ({how})"[:200]
    party.save(update_fields=["signed_at", "signed_by"])


def _seal(version: AgreementVersion, now: datetime) -> None:
    """Every party has signed: the version is signed, and a new agreement becomes active."""
    version.status = AgreementVersion.Status.SIGNED
    version.signed_at = now
    version.save(update_fields=["status", "signed_at"])
    if version.agreement.status in (Agreement.Status.DRAFT, Agreement.Status.PROPOSED):
        common.set_status(version.agreement, Agreement.Status.ACTIVE)
    common.tell_parties(version, "agreement.version_signed")
