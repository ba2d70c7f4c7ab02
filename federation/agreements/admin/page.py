"""The agreement's page: its versions side by side, each party's contact and signature in each
version, and what can be done next."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from federation.agreements.admin.actions import ACTIONS, SIGNED_HOW
from federation.agreements.admin.listing import open_of
from federation.agreements.admin.readable import ReadableTerms, readable_versions
from federation.agreements.models import Agreement, AgreementParty, AgreementVersion
from federation.agreements.selectors import version_list
from partners.models import Partner

# A party's place in a version, by code (the page tests "signed") and as the page names it.
STATES: dict[str, Promise] = {
    "not a party": _("not a party"),
    "signed": _("signed"),
    "not proposed yet": _("not proposed yet"),
    "awaiting signature": _("awaiting signature"),
    "did not sign": _("did not sign"),
}


@dataclass(frozen=True)
class Cell:
    """One party's place in one version: its contact and signature, or why there is none."""

    party: AgreementParty | None
    state: str  # a key of STATES

    @property
    def state_name(self) -> Promise:
        return STATES[self.state]


@dataclass(frozen=True)
class Column:
    version: AgreementVersion
    terms: ReadableTerms
    edit_url: str | None
    diff_url: str | None  # against the version before it


def versions_context(agreement: Agreement, url_of: Callable[..., str]) -> dict[str, Any]:
    """What the agreement's page shows beyond its fields, with links made by ``url_of`` (the
    console's ``url_of``)."""
    versions = list(version_list(agreement=agreement))
    partners: dict[Any, Partner] = {}
    for version in versions:
        for each in version.parties.all():
            partners.setdefault(each.partner_id, each.partner)
    rows = [
        (partner, [_cell(version, _party_of(version, partner)) for version in versions])
        for partner in sorted(partners.values(), key=lambda p: p.slug)
    ]
    open_version = open_of(versions)
    return {
        "may_manage": True,
        "columns": _columns(agreement, versions, url_of),
        "rows": rows,
        "open_version": open_version,
        "unsigned": [
            party
            for party in (open_version.parties.all() if open_version else [])
            if party.signed_at is None
        ],
        "signed_how": SIGNED_HOW,
        "can_draft": not agreement.has_ended and open_version is None,
        "can_suspend": agreement.status == Agreement.Status.ACTIVE,
        "can_resume": agreement.status == Agreement.Status.SUSPENDED,
        "can_terminate": not agreement.has_ended,
        "new_version_url": url_of("version_new", agreement.pk),
        "diff_url": url_of("diff", agreement.pk),
        "action_urls": {name: url_of("act", agreement.pk, name) for name in ACTIONS},
    }


def _columns(
    agreement: Agreement, versions: list[AgreementVersion], url_of: Callable[..., str]
) -> list[Column]:
    readable = readable_versions(version.terms for version in versions)
    return [
        Column(
            version=version,
            terms=terms,
            edit_url=(
                url_of("version_edit", agreement.pk, version.number)
                if version.status == AgreementVersion.Status.DRAFT
                else None
            ),
            diff_url=(
                f"{url_of('diff', agreement.pk)}?old={previous.number}&new={version.number}"
                if previous is not None
                else None
            ),
        )
        for previous, version, terms in zip([None, *versions], versions, readable, strict=False)
    ]


def _cell(version: AgreementVersion, party: AgreementParty | None) -> Cell:
    if party is None:
        return Cell(None, "not a party")
    if party.signed_at is not None:
        return Cell(party, "signed")
    return Cell(
        party,
        {
            AgreementVersion.Status.DRAFT: "not proposed yet",
            AgreementVersion.Status.PROPOSED: "awaiting signature",
        }.get(AgreementVersion.Status(version.status), "did not sign"),
    )


def _party_of(version: AgreementVersion, partner: Partner) -> AgreementParty | None:
    return next((p for p in version.parties.all() if p.partner_id == partner.pk), None)
