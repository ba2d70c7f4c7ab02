"""The list of agreements: filtered by party, with every row's versions and parties read in
three queries whatever its length, and the columns that read them."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from consent.names import partner_name
from federation.agreements.admin.base import AgreementConsole
from federation.agreements.models import Agreement, AgreementParty, AgreementVersion
from federation.agreements.selectors import version_in_force
from partners.models import Partner


class PartyFilter(admin.SimpleListFilter):
    """Companies that are a party to any version of an agreement (withdrawn ones included)."""

    title = _("party")
    parameter_name = "party"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        partners = Partner.objects.filter(pk__in=AgreementParty.objects.values("partner")).order_by(
            "slug"
        )
        return [(str(partner.pk), partner.slug) for partner in partners]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        try:
            partner_id = uuid.UUID(str(value))
        except ValueError:
            return queryset.none()
        agreements = AgreementParty.objects.filter(partner_id=partner_id).values(
            "version__agreement"
        )
        return queryset.filter(pk__in=agreements)


class AgreementChangeList(ChangeList):
    """The list reads every row's versions and parties in three queries, whatever its length:
    the columns below work on these prefetched lists, never on a query per row."""

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> Any:
        # Contacts are encrypted and not shown in the list: not decrypted either.
        parties = AgreementParty.objects.select_related("partner").defer(
            "contact_name", "contact_email"
        )
        versions = (
            AgreementVersion.objects.defer("terms")
            .order_by("number")
            .prefetch_related(Prefetch("parties", queryset=parties))
        )
        signed = AgreementVersion.objects.defer("terms").filter(
            status=AgreementVersion.Status.SIGNED
        )
        return (
            super()
            .get_queryset(request, exclude_parameters)
            .prefetch_related(
                Prefetch("versions", queryset=versions, to_attr="listed_versions"),
                # The attribute version_in_force reads instead of querying (as
                # federation.selectors prefetches it for terms_in_force).
                Prefetch("versions", queryset=signed, to_attr="signed_versions"),
            )
        )


def latest(versions: list[AgreementVersion]) -> AgreementVersion | None:
    """The latest version that stands (not withdrawn), else the latest of all."""
    standing = [v for v in versions if v.status != AgreementVersion.Status.WITHDRAWN]
    candidates = standing or versions
    return candidates[-1] if candidates else None


def open_of(versions: list[AgreementVersion]) -> AgreementVersion | None:
    return next((v for v in versions if v.status in AgreementVersion.OPEN), None)


class AgreementColumns(AgreementConsole):
    """The list's columns, each read from the rows as ``AgreementChangeList`` prefetched them
    (and, for the enrollments, as the admin's query set annotated them)."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return AgreementChangeList

    @admin.display(description=_("host"), ordering="host__name_latin")
    def host_name(self, obj: Agreement) -> str:
        return partner_name(obj.host)

    @admin.display(description=_("in force today"))
    def in_force(self, obj: Agreement) -> str:
        # Only an active agreement has terms in force, whatever its signed versions say.
        version = (
            version_in_force(obj, timezone.localdate())
            if obj.status == Agreement.Status.ACTIVE
            else None
        )
        if version is None:
            return "—"
        return gettext("v%(number)s, until %(date)s") % {
            "number": version.number,
            "date": date_format(version.valid_until, "SHORT_DATE_FORMAT"),
        }

    @admin.display(description=_("parties (latest version)"))
    def latest_parties(self, obj: Agreement) -> str:
        version = latest(obj.listed_versions)  # type: ignore[attr-defined]
        if version is None:
            return "—"
        return ", ".join(party.partner.slug for party in version.parties.all())

    @admin.display(description=_("open version"))
    def open_version(self, obj: Agreement) -> str:
        version = open_of(obj.listed_versions)  # type: ignore[attr-defined]
        if version is None:
            return "—"
        if version.status == AgreementVersion.Status.DRAFT:
            return gettext("v%(number)s: draft") % {"number": version.number}
        parties = list(version.parties.all())
        signed = sum(1 for party in parties if party.signed_at is not None)
        return gettext("v%(number)s: %(signed)s of %(parties)s signed") % {
            "number": version.number,
            "signed": signed,
            "parties": len(parties),
        }

    @admin.display(description=_("enrolled"), ordering="live_enrollments")
    def enrollment_count(self, obj: Agreement) -> str:
        return intcomma(int(obj.live_enrollments))  # type: ignore[attr-defined]
