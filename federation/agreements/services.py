"""Writes for agreements: drafting terms, proposing, signing, suspending, resuming, ending.

Every transition locks the agreement's row, so two signatures (or a signature and a
suspension) never interleave, and tells every party through its webhooks in the same
transaction (delivered after commit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from consent.models import Purpose
from federation.agreements.models import Agreement, AgreementParty, AgreementVersion
from federation.agreements.terms import TermsError, terms_clean, terms_hash
from federation.audit import FederationAuditAction
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import Partner
from partners.services import audit_record, partner_grant, webhook_emit


@dataclass(frozen=True)
class PartyInput:
    partner: Partner
    contact_name: str
    contact_email: str


def _invalid(
    fields: dict[str, list[str]], message: str = "The agreement is not valid."
) -> ApplicationError:
    return ApplicationError(ErrorCode.VALIDATION_FAILED, message, fields=fields)


def _conflict(message: str) -> ApplicationError:
    return ApplicationError(ErrorCode.CONFLICT, message)


def _audit(
    action: FederationAuditAction,
    actor: Actor,
    agreement: Agreement,
    *,
    partner: Partner | None = None,
    **detail: Any,
) -> None:
    audit_record(
        action=action,
        actor=actor,
        partner=partner or agreement.host,
        target=agreement,
        detail=detail,
    )


def _clean_version(
    *,
    host: Partner,
    parties: Sequence[PartyInput],
    terms: Mapping[str, Any],
    effective_from: date,
    valid_until: date,
    today: date | None = None,
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    slugs = [party.partner.slug for party in parties]
    if len(set(slugs)) != len(slugs):
        errors["parties"] = ["Name each company once."]
    if host.slug not in slugs:
        errors.setdefault("parties", []).append("The host is a party to every agreement.")
    if len(set(slugs)) < 2:
        errors.setdefault("parties", []).append("An agreement binds the host and a partner.")
    for party in parties:
        if not party.partner.is_active:
            errors.setdefault("parties", []).append(f"{party.partner.slug} is not active.")
        if not party.contact_name.strip() or "@" not in party.contact_email:
            errors.setdefault("parties", []).append(
                f"Give a contact name and e-mail for {party.partner.slug}."
            )
    if effective_from < (today or timezone.localdate()):
        # Terms are never agreed retroactively; refused when drafted, and again when proposed.
        errors["effective_from"] = ["Terms cannot take effect in the past; pick today or later."]
    if valid_until < effective_from:
        errors["valid_until"] = ["The agreement must end after it takes effect."]
    purposes = Purpose.objects.filter(active=True).values_list("code", flat=True)
    try:
        clean = terms_clean(terms, parties=slugs, purposes=purposes)
    except TermsError as error:
        errors.update({f"terms.{path}": messages for path, messages in error.errors.items()})
        clean = {}
    if errors:
        raise _invalid(errors)
    return clean


def _write_parties(version: AgreementVersion, parties: Sequence[PartyInput]) -> None:
    version.parties.all().delete()
    AgreementParty.objects.bulk_create(
        AgreementParty(
            version=version,
            partner=party.partner,
            contact_name=party.contact_name.strip(),
            contact_email=party.contact_email.strip(),
        )
        for party in parties
    )


def agreement_create(
    *,
    title: str,
    host: Partner,
    parties: Sequence[PartyInput],
    terms: Mapping[str, Any],
    effective_from: date,
    valid_until: date,
    actor: Actor,
    summary: str = "",
) -> Agreement:
    """A new agreement in draft, with its first version's terms."""
    if host.kind != Partner.Kind.HOST:
        raise _invalid({"host": ["The host of an agreement is the customer-base owner."]})
    if not title.strip():
        raise _invalid({"title": ["Give the agreement a title."]})
    clean = _clean_version(
        host=host,
        parties=parties,
        terms=terms,
        effective_from=effective_from,
        valid_until=valid_until,
    )
    with transaction.atomic():
        agreement = Agreement.objects.create(title=title.strip()[:200], host=host)
        version = AgreementVersion.objects.create(
            agreement=agreement,
            number=1,
            effective_from=effective_from,
            valid_until=valid_until,
            terms=clean,
            terms_sha256=terms_hash(clean),
            summary=summary[:300],
            created_by=actor.label[:200],
        )
        _write_parties(version, parties)
        _audit(FederationAuditAction.AGREEMENT_CREATED, actor, agreement, version=1)
    return agreement


def version_draft(
    *,
    agreement: Agreement,
    parties: Sequence[PartyInput],
    terms: Mapping[str, Any],
    effective_from: date,
    valid_until: date,
    actor: Actor,
    summary: str = "",
) -> AgreementVersion:
    """An amendment: the next version of the terms, in draft. Adding a company is an amendment
    with one more party; it never extends the members' consents to that company."""
    clean = _clean_version(
        host=agreement.host,
        parties=parties,
        terms=terms,
        effective_from=effective_from,
        valid_until=valid_until,
    )
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if agreement.status in (Agreement.Status.TERMINATED, Agreement.Status.EXPIRED):
            raise _conflict("An agreement that has ended cannot be amended.")
        if agreement.versions.filter(
            status__in=[AgreementVersion.Status.DRAFT, AgreementVersion.Status.PROPOSED]
        ).exists():
            raise _conflict("Finish or withdraw the open version before drafting another.")
        last = agreement.versions.order_by("-number").first()
        version = AgreementVersion.objects.create(
            agreement=agreement,
            number=(last.number if last else 0) + 1,
            effective_from=effective_from,
            valid_until=valid_until,
            terms=clean,
            terms_sha256=terms_hash(clean),
            summary=summary[:300],
            created_by=actor.label[:200],
        )
        _write_parties(version, parties)
        _audit(
            FederationAuditAction.AGREEMENT_VERSION_DRAFTED,
            actor,
            agreement,
            version=version.number,
        )
    return version


def version_update(
    *,
    version: AgreementVersion,
    parties: Sequence[PartyInput],
    terms: Mapping[str, Any],
    effective_from: date,
    valid_until: date,
    actor: Actor,
    summary: str = "",
) -> AgreementVersion:
    """Change a draft. A proposed version is fixed: withdraw it and draft another."""
    clean = _clean_version(
        host=version.agreement.host,
        parties=parties,
        terms=terms,
        effective_from=effective_from,
        valid_until=valid_until,
    )
    with transaction.atomic():
        version = AgreementVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != AgreementVersion.Status.DRAFT:
            raise _conflict("Only a draft can be changed; this version is already proposed.")
        version.effective_from, version.valid_until = effective_from, valid_until
        version.terms, version.terms_sha256 = clean, terms_hash(clean)
        version.summary = summary[:300]
        version.save()
        _write_parties(version, parties)
        _audit(
            FederationAuditAction.AGREEMENT_VERSION_CHANGED,
            actor,
            version.agreement,
            version=version.number,
        )
    return version


def _tell_parties(
    version: AgreementVersion,
    event_type: str,
    *,
    partners: Sequence[Partner] | None = None,
    **extra: Any,
) -> None:
    """Send ``event_type`` about ``version`` to its parties, or to ``partners``."""
    agreement = version.agreement
    if partners is None:
        partners = [party.partner for party in version.parties.select_related("partner")]
    for partner in partners:
        webhook_emit(
            partner=partner,
            event_type=event_type,
            data={
                "agreement_id": str(agreement.pk),
                "title": agreement.title,
                "status": agreement.status,
                "version": version.number,
                "effective_from": version.effective_from.isoformat(),
                "valid_until": version.valid_until.isoformat(),
                **extra,
            },
        )


def _locked(agreement_id: Any) -> Agreement:
    return Agreement.objects.select_for_update().select_related("host").get(pk=agreement_id)


def version_propose(
    *, version: AgreementVersion, actor: Actor, today: date | None = None
) -> AgreementVersion:
    """Fix a draft's terms and ask every party to sign. The date it takes effect may not be in
    the past: terms are never agreed retroactively."""
    today = today or timezone.localdate()
    with transaction.atomic():
        agreement = _locked(version.agreement_id)
        version = AgreementVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != AgreementVersion.Status.DRAFT:
            raise _conflict("Only a draft can be proposed.")
        if agreement.status in (Agreement.Status.TERMINATED, Agreement.Status.EXPIRED):
            raise _conflict("An agreement that has ended cannot be amended.")
        parties = list(version.parties.select_related("partner"))
        # The terms are checked again: a purpose or a company may have changed since drafting,
        # and the date may have passed.
        _clean_version(
            host=agreement.host,
            parties=[PartyInput(p.partner, p.contact_name, p.contact_email) for p in parties],
            terms=version.terms,
            effective_from=version.effective_from,
            valid_until=version.valid_until,
            today=today,
        )
        version.status = AgreementVersion.Status.PROPOSED
        version.proposed_at = timezone.now()
        version.save(update_fields=["status", "proposed_at"])
        for party in parties:
            partner_grant(partner=party.partner, obj=agreement, perms=("view",), actor=actor)
        if agreement.status == Agreement.Status.DRAFT:
            _set_status(agreement, Agreement.Status.PROPOSED)
        version.agreement = agreement
        _tell_parties(version, "agreement.proposed")
        _audit(FederationAuditAction.AGREEMENT_PROPOSED, actor, agreement, version=version.number)
    return version


def _set_status(agreement: Agreement, status: str, reason: str = "") -> None:
    agreement.status = status
    agreement.status_reason = reason[:300]
    agreement.updated_at = timezone.now()
    agreement.save(update_fields=["status", "status_reason", "updated_at"])


def version_withdraw(*, version: AgreementVersion, actor: Actor) -> AgreementVersion:
    """Take back a draft or a proposal before every party signed; signatures given lapse."""
    with transaction.atomic():
        agreement = _locked(version.agreement_id)
        version = AgreementVersion.objects.select_for_update().get(pk=version.pk)
        if version.status not in (AgreementVersion.Status.DRAFT, AgreementVersion.Status.PROPOSED):
            raise _conflict("Only a draft or a proposal can be withdrawn.")
        was_proposed = version.status == AgreementVersion.Status.PROPOSED
        version.status = AgreementVersion.Status.WITHDRAWN
        version.save(update_fields=["status"])
        signed_before = agreement.versions.filter(status=AgreementVersion.Status.SIGNED).exists()
        if agreement.status == Agreement.Status.PROPOSED and not signed_before:
            _set_status(agreement, Agreement.Status.DRAFT)
        if was_proposed:
            version.agreement = agreement
            _tell_parties(version, "agreement.withdrawn")
        _audit(FederationAuditAction.AGREEMENT_WITHDRAWN, actor, agreement, version=version.number)
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
        raise _invalid({"signed_by": ["Say who signs for the company."]})
    with transaction.atomic():
        agreement = _locked(version.agreement_id)
        version = AgreementVersion.objects.select_for_update().get(pk=version.pk)
        party = version.parties.select_for_update().filter(partner=partner).first()
        if party is None:
            raise ApplicationError(ErrorCode.NOT_FOUND, "No such agreement version.")
        if party.signed_at is not None:
            return version
        if version.status != AgreementVersion.Status.PROPOSED:
            raise _conflict("This version is not awaiting signatures.")
        if agreement.status in (Agreement.Status.TERMINATED, Agreement.Status.EXPIRED):
            raise _conflict("This agreement has ended.")
        party.signed_at = now
        # Every party reads this: name the channel, not the key (the audit log has the key).
        how = "through the API" if actor.api_key is not None else f"recorded by {actor.label}"
        party.signed_by = f"{signed_by.strip()[:120]} ({how})"[:200]
        party.save(update_fields=["signed_at", "signed_by"])
        version.agreement = agreement
        _tell_parties(version, "agreement.signed", signed_by_party=partner.slug)
        _audit(
            FederationAuditAction.AGREEMENT_SIGNED,
            actor,
            agreement,
            partner=partner,
            version=version.number,
            signed_by=party.signed_by,
        )
        if not version.parties.filter(signed_at__isnull=True).exists():
            version.status = AgreementVersion.Status.SIGNED
            version.signed_at = now
            version.save(update_fields=["status", "signed_at"])
            if agreement.status in (Agreement.Status.DRAFT, Agreement.Status.PROPOSED):
                _set_status(agreement, Agreement.Status.ACTIVE)
            _tell_parties(version, "agreement.version_signed")
    return version


def agreement_suspend(*, agreement: Agreement, reason: str, actor: Actor) -> Agreement:
    """Stop everything the agreement allows at once, until it is resumed."""
    return _transition(
        agreement,
        allowed_from=(Agreement.Status.ACTIVE,),
        to=Agreement.Status.SUSPENDED,
        reason=reason,
        event_type="agreement.suspended",
        audit=FederationAuditAction.AGREEMENT_SUSPENDED,
        actor=actor,
    )


def agreement_resume(*, agreement: Agreement, actor: Actor) -> Agreement:
    return _transition(
        agreement,
        allowed_from=(Agreement.Status.SUSPENDED,),
        to=Agreement.Status.ACTIVE,
        reason="",
        event_type="agreement.resumed",
        audit=FederationAuditAction.AGREEMENT_RESUMED,
        actor=actor,
    )


def agreement_terminate(*, agreement: Agreement, reason: str, actor: Actor) -> Agreement:
    """End the agreement for good; an open proposal lapses with it (its parties are told the
    agreement ended)."""
    with transaction.atomic():
        agreement = _transition(
            agreement,
            allowed_from=(
                Agreement.Status.DRAFT,
                Agreement.Status.PROPOSED,
                Agreement.Status.ACTIVE,
                Agreement.Status.SUSPENDED,
            ),
            to=Agreement.Status.TERMINATED,
            reason=reason,
            event_type="agreement.terminated",
            audit=FederationAuditAction.AGREEMENT_TERMINATED,
            actor=actor,
        )
        agreement.versions.filter(
            status__in=[AgreementVersion.Status.DRAFT, AgreementVersion.Status.PROPOSED]
        ).update(status=AgreementVersion.Status.WITHDRAWN)
    return agreement


def _transition(
    agreement: Agreement,
    *,
    allowed_from: tuple[str, ...],
    to: str,
    reason: str,
    event_type: str,
    audit: FederationAuditAction,
    actor: Actor,
) -> Agreement:
    if to != Agreement.Status.ACTIVE and not reason.strip():
        raise _invalid({"reason": ["Give the reason; every party is told it."]})
    with transaction.atomic():
        agreement = _locked(agreement.pk)
        if agreement.status not in allowed_from:
            raise _conflict(
                f"A {agreement.get_status_display().lower()} agreement cannot become {to}."
            )
        _set_status(agreement, to, reason)
        _tell_the_bound(agreement, event_type, reason=reason.strip()[:300])
        _audit(audit, actor, agreement, reason=reason.strip()[:300])
    return agreement


def _tell_the_bound(agreement: Agreement, event_type: str, **extra: Any) -> None:
    """Tell a change of the whole agreement to the companies it binds: the parties to the
    version in force (or, when none is, the latest signed one), to signed versions still to
    take effect, and those asked to sign an open proposal. A company named only in a draft has
    not been asked anything yet, and one that no version binds any longer is not told."""
    from federation.agreements.selectors import version_in_force

    today = timezone.localdate()
    versions = list(
        agreement.versions.filter(
            status__in=[AgreementVersion.Status.SIGNED, AgreementVersion.Status.PROPOSED]
        ).order_by("-number")
    )
    signed = [v for v in versions if v.status == AgreementVersion.Status.SIGNED]
    current = version_in_force(agreement, today) or (signed[0] if signed else None)
    bound = [
        version
        for version in versions
        if version.status == AgreementVersion.Status.PROPOSED
        or version == current
        or (current is not None and version.number > current.number)
    ]
    if not bound:
        return
    partners: dict[Any, Partner] = {}
    for version in bound:
        for party in version.parties.select_related("partner"):
            partners.setdefault(party.partner_id, party.partner)
    about = current or bound[0]
    about.agreement = agreement
    _tell_parties(about, event_type, partners=list(partners.values()), **extra)


def agreements_expire(*, today: date | None = None) -> int:
    """Mark active agreements whose terms in force have run out as expired (the daily task),
    and tell their parties. What they allow already ends with the date, task or not."""
    from federation.agreements.selectors import version_in_force

    today = today or timezone.localdate()
    expired = 0
    for agreement in Agreement.objects.filter(status=Agreement.Status.ACTIVE):
        if version_in_force(agreement, today) is not None:
            continue
        later = agreement.versions.filter(
            status=AgreementVersion.Status.SIGNED, effective_from__gt=today
        ).exists()
        if later:  # signed terms that start later: between versions, not ended
            continue
        with transaction.atomic():
            locked = _locked(agreement.pk)
            if locked.status != Agreement.Status.ACTIVE:
                continue
            _set_status(locked, Agreement.Status.EXPIRED, "The terms in force ran out.")
            _tell_the_bound(locked, "agreement.expired")
            _audit(FederationAuditAction.AGREEMENT_EXPIRED, Actor.system(), locked)
            expired += 1
    return expired
