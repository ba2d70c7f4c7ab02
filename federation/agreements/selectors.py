"""Reads of the federation. ``terms_in_force`` is the one question every feature asks before
it moves member data, coins or referrals between two companies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from federation.agreements.models import Agreement, AgreementParty, AgreementVersion
from federation.agreements.terms import terms_diff
from partners.access import granted
from partners.models import Partner


def _takes_effect(version: AgreementVersion) -> date:
    # A version signed after its date takes effect on the day of its last signature.
    assert version.signed_at is not None
    return max(version.effective_from, timezone.localdate(version.signed_at))


def version_in_force(agreement: Agreement, day: date) -> AgreementVersion | None:
    """The newest signed version of ``agreement`` already in effect on ``day``, if it has not
    run out. Its status aside: callers check that the agreement is active."""
    signed = [
        version
        for version in _signed_versions(agreement)
        if version.signed_at is not None and _takes_effect(version) <= day
    ]
    if not signed:
        return None
    newest = max(signed, key=lambda version: version.number)
    return newest if newest.valid_until >= day else None


def _signed_versions(agreement: Agreement) -> list[AgreementVersion]:
    cached = getattr(agreement, "signed_versions", None)
    if cached is not None:
        return list(cached)
    return list(
        agreement.versions.filter(status=AgreementVersion.Status.SIGNED).prefetch_related("parties")
    )


@dataclass(frozen=True)
class TermsInForce:
    """What an active agreement allows ``provider`` to give ``recipient`` for ``purpose``."""

    agreement: Agreement
    version: AgreementVersion
    provider: str
    recipient: str
    purpose: str
    fields: tuple[str, ...]
    legal_basis: str  # "consent": ask consent_check too; "joint_use": the published notice
    joint_use: dict[str, str] | None
    coin: dict[str, Any]
    referral: dict[str, Any] | None
    min_cell: int


def terms_in_force(
    *, provider: Partner, recipient: Partner, purpose: str, day: date | None = None
) -> TermsInForce | None:
    """The terms in force between ``provider`` and ``recipient`` for ``purpose`` on ``day``
    (today in Japan by default), or None when no active agreement allows it.

    Agreements are few, so this reads the candidates' signed versions and decides in Python.
    When two agreements both cover the flow, the one signed last wins: it is the parties'
    latest word.
    """
    day = day or timezone.localdate()
    found: list[TermsInForce] = []
    for agreement in active_agreements_of(provider, recipient):
        version = version_in_force(agreement, day)
        if version is None:
            continue
        parties = {party.partner_id for party in version.parties.all()}
        if not {provider.pk, recipient.pk} <= parties:
            continue  # a company added by a later version is no party to this one
        terms = version.terms
        for flow in terms["data_flows"]:
            if (flow["provider"], flow["recipient"], flow["purpose"]) == (
                provider.slug,
                recipient.slug,
                purpose,
            ):
                found.append(
                    TermsInForce(
                        agreement=agreement,
                        version=version,
                        provider=provider.slug,
                        recipient=recipient.slug,
                        purpose=purpose,
                        fields=tuple(flow["fields"]),
                        legal_basis=flow["legal_basis"],
                        joint_use=flow.get("joint_use"),
                        coin=terms["coin"],
                        referral=terms["referral"],
                        min_cell=terms["overlap"]["min_cell"],
                    )
                )
    if not found:
        return None
    return max(found, key=lambda terms: terms.version.signed_at or terms.version.created_at)


def active_agreements_of(*partners: Partner) -> QuerySet[Agreement]:
    """The active agreements all ``partners`` are parties to a signed version of, with the
    signed versions and their parties fetched (``version_in_force`` reads them, no query)."""
    agreements = Agreement.objects.filter(status=Agreement.Status.ACTIVE)
    for partner in partners:
        agreements = agreements.filter(
            versions__status=AgreementVersion.Status.SIGNED,
            versions__parties__partner=partner,
        )
    return agreements.distinct().prefetch_related(
        Prefetch(
            "versions",
            queryset=AgreementVersion.objects.filter(
                status=AgreementVersion.Status.SIGNED
            ).prefetch_related("parties"),
            to_attr="signed_versions",
        )
    )


def joint_use_flows_of(
    partner: Partner, *, day: date | None = None
) -> list[tuple[Agreement, dict[str, Any]]]:
    """The joint-use data flows in force today that ``partner`` takes part in (as provider or
    recipient), with their agreement: their notices are published to its members."""
    day = day or timezone.localdate()
    found = []
    for agreement in active_agreements_of(partner):
        version = version_in_force(agreement, day)
        if version is None:
            continue
        for flow in version.terms["data_flows"]:
            if flow["legal_basis"] == "joint_use" and partner.slug in (
                flow["provider"],
                flow["recipient"],
            ):
                found.append((agreement, flow))
    return found


def agreement_list(*, principal: Partner) -> QuerySet[Agreement]:
    """The agreements ``principal`` is (or was) a party to, newest first."""
    return granted(principal, Agreement.objects.select_related("host")).order_by("-created_at")


def version_list(*, agreement: Agreement) -> QuerySet[AgreementVersion]:
    return agreement.versions.order_by("number").prefetch_related(
        Prefetch("parties", queryset=AgreementParty.objects.select_related("partner"))
    )


def version_diff(old: AgreementVersion, new: AgreementVersion) -> list[tuple[str, Any, Any]]:
    """What changed from ``old`` to ``new``: dates, parties (with their contacts) and every
    term, as (path, old value, new value). Reads the parties as prefetched with their partners
    (``version_list``, ``access_version_by_number``)."""

    def document(version: AgreementVersion) -> dict[str, Any]:
        return {
            "effective_from": version.effective_from.isoformat(),
            "valid_until": version.valid_until.isoformat(),
            "parties": {
                party.partner.slug: {"contact": f"{party.contact_name} <{party.contact_email}>"}
                for party in version.parties.all()
            },
            "terms": version.terms,
        }

    return terms_diff(document(old), document(new))
