"""Drafting agreements: a new agreement with its first version, an amendment (the next
version), and a draft changed. A version's terms are checked here against its parties, its
dates and the purpose catalogue, and again when it is proposed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NotRequired, TypedDict, Unpack

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.models import Purpose
from federation.agreements.models import Agreement, AgreementParty, AgreementVersion
from federation.agreements.services.common import audit_agreement, conflict, invalid
from federation.agreements.terms import TermsError, terms_clean, terms_hash
from federation.audit import FederationAuditAction
from partners.actors import Actor
from partners.models import Partner


@dataclass(frozen=True)
class PartyInput:
    partner: Partner
    contact_name: str
    contact_email: str


class VersionDraft(TypedDict):
    """What a version says: the companies it binds with their contacts, its terms document,
    from and until when, and what it changes. The drafting services take these by name."""

    parties: Sequence[PartyInput]
    terms: Mapping[str, Any]
    effective_from: date
    valid_until: date
    summary: NotRequired[str]


def agreement_create(
    *, title: str, host: Partner, actor: Actor, **draft: Unpack[VersionDraft]
) -> Agreement:
    """A new agreement in draft, with its first version's terms."""
    if host.kind != Partner.Kind.HOST:
        raise invalid({"host": [_("The host of an agreement is the customer-base owner.")]})
    if not title.strip():
        raise invalid({"title": [_("Give the agreement a title.")]})
    clean = clean_version(host, draft)
    with transaction.atomic():
        agreement = Agreement.objects.create(title=title.strip()[:200], host=host)
        first = AgreementVersion(agreement=agreement, number=1, created_by=actor.label[:200])
        _save_version(first, draft, clean)
        audit_agreement(FederationAuditAction.AGREEMENT_CREATED, actor, agreement, version=1)
    return agreement


def version_draft(
    *, agreement: Agreement, actor: Actor, **draft: Unpack[VersionDraft]
) -> AgreementVersion:
    """An amendment: the next version of the terms, in draft. Adding a company is an amendment
    with one more party; it never extends the members' consents to that company."""
    clean = clean_version(agreement.host, draft)
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if agreement.has_ended:
            raise conflict(_("An agreement that has ended cannot be amended."))
        if agreement.versions.filter(status__in=AgreementVersion.OPEN).exists():
            raise conflict(_("Finish or withdraw the open version before drafting another."))
        last = agreement.versions.order_by("-number").first()
        version = AgreementVersion(
            agreement=agreement,
            number=(last.number if last else 0) + 1,
            created_by=actor.label[:200],
        )
        _save_version(version, draft, clean)
        audit_agreement(
            FederationAuditAction.AGREEMENT_VERSION_DRAFTED,
            actor,
            agreement,
            version=version.number,
        )
    return version


def version_update(
    *, version: AgreementVersion, actor: Actor, **draft: Unpack[VersionDraft]
) -> AgreementVersion:
    """Change a draft. A proposed version is fixed: withdraw it and draft another."""
    clean = clean_version(version.agreement.host, draft)
    with transaction.atomic():
        version = AgreementVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != AgreementVersion.Status.DRAFT:
            raise conflict(_("Only a draft can be changed; this version is already proposed."))
        _save_version(version, draft, clean)
        audit_agreement(
            FederationAuditAction.AGREEMENT_VERSION_CHANGED,
            actor,
            version.agreement,
            version=version.number,
        )
    return version


def clean_version(
    host: Partner, draft: VersionDraft, *, today: date | None = None
) -> dict[str, Any]:
    """The terms document of ``draft`` as stored, once its parties, dates and terms are
    valid. Raises validation_failed naming every problem (``terms.<path>`` for the terms)."""
    errors: dict[str, list[str]] = {}
    parties = draft["parties"]
    slugs = [party.partner.slug for party in parties]
    if len(set(slugs)) != len(slugs):
        errors["parties"] = [_("Name each company once.")]
    if host.slug not in slugs:
        errors.setdefault("parties", []).append(_("The host is a party to every agreement."))
    if len(set(slugs)) < 2:
        errors.setdefault("parties", []).append(_("An agreement binds the host and a partner."))
    for party in parties:
        if not party.partner.is_active:
            errors.setdefault("parties", []).append(
                _("%(company)s is not active.") % {"company": party.partner.slug}
            )
        if not party.contact_name.strip() or "@" not in party.contact_email:
            errors.setdefault("parties", []).append(
                _("Give a contact name and e-mail for %(company)s.")
                % {"company": party.partner.slug}
            )
    effective_from, valid_until = draft["effective_from"], draft["valid_until"]
    if effective_from < (today or timezone.localdate()):
        # Terms are never agreed retroactively; refused when drafted, and again when proposed.
        errors["effective_from"] = [_("Terms cannot take effect in the past; pick today or later.")]
    if valid_until < effective_from:
        errors["valid_until"] = [_("The agreement must end after it takes effect.")]
    purposes = Purpose.objects.filter(active=True).values_list("code", flat=True)
    try:
        clean = terms_clean(draft["terms"], parties=slugs, purposes=purposes)
    except TermsError as error:
        errors.update({f"terms.{path}": messages for path, messages in error.errors.items()})
        clean = {}
    if errors:
        raise invalid(errors)
    return clean


def drafted(version: AgreementVersion) -> VersionDraft:
    """What a stored version says, as it was drafted (its parties read with their partners)."""
    return VersionDraft(
        parties=[
            PartyInput(party.partner, party.contact_name, party.contact_email)
            for party in version.parties.select_related("partner")
        ],
        terms=version.terms,
        effective_from=version.effective_from,
        valid_until=version.valid_until,
        summary=version.summary,
    )


def _save_version(
    version: AgreementVersion, draft: VersionDraft, clean: dict[str, Any]
) -> AgreementVersion:
    """Save ``version`` (a new one, or a draft) as ``draft`` says, its terms as cleaned, and
    its parties in place of any it had."""
    version.effective_from = draft["effective_from"]
    version.valid_until = draft["valid_until"]
    version.terms, version.terms_sha256 = clean, terms_hash(clean)
    version.summary = draft.get("summary", "")[:300]
    version.save()
    version.parties.all().delete()
    AgreementParty.objects.bulk_create(
        AgreementParty(
            version=version,
            partner=party.partner,
            contact_name=party.contact_name.strip(),
            contact_email=party.contact_email.strip(),
        )
        for party in draft["parties"]
    )
    return version
