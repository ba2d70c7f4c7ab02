"""Agreements in the console: the list, each agreement's versions and signatures side by side,
the terms form (a new agreement, a new version, a draft), the diff between two versions, and
the lifecycle actions. Every write is a call to ``federation.agreements.services``; a refusal is
shown as a message or next to the form's fields, never as a server error."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from federation.agreements import services
from federation.agreements.admin.actions import ACTIONS, SIGNED_HOW
from federation.agreements.admin.forms import (
    PartyFormSet,
    VersionForm,
    parties_from,
    party_rows,
    place_errors,
    version_initial,
)
from federation.agreements.models import Agreement, AgreementParty, AgreementVersion
from federation.agreements.selectors import version_diff, version_in_force, version_list
from partners.access import has_staff_role
from partners.actors import Actor
from partners.admin.base import error_text
from partners.errors import ApplicationError
from partners.models import Partner, StaffRole
from partners.normalize import whole_number

OPEN = (AgreementVersion.Status.DRAFT, AgreementVersion.Status.PROPOSED)
ENDED = (Agreement.Status.TERMINATED, Agreement.Status.EXPIRED)
# Enrollment is a domain built on agreements, so the console reads its rows by model name
# (apps.get_model) rather than importing it: agreements never depend on the domains above.
LIVE_ENROLLMENT = ("active", "confirmed")


def may_manage_agreements(user: Any) -> bool:
    """Alliance managers run agreements in the console; nobody else sees them here (a role, see
    partners.access). Partner staff are not staff users at all: their company reads the
    agreements it is party to through the API, by the guardian grant every party gets."""
    return bool(getattr(user, "is_staff", False)) and has_staff_role(
        user, StaffRole.Role.ALLIANCE_MANAGER
    )


class PartyFilter(admin.SimpleListFilter):
    """Companies that are a party to any version of an agreement (withdrawn ones included)."""

    title = "party"
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


def _latest(versions: list[AgreementVersion]) -> AgreementVersion | None:
    standing = [v for v in versions if v.status != AgreementVersion.Status.WITHDRAWN]
    candidates = standing or versions
    return candidates[-1] if candidates else None


def _open(versions: list[AgreementVersion]) -> AgreementVersion | None:
    return next((v for v in versions if v.status in OPEN), None)


@dataclass(frozen=True)
class Cell:
    """One party's place in one version: its contact and signature, or why there is none."""

    party: AgreementParty | None
    state: str


@dataclass(frozen=True)
class Column:
    version: AgreementVersion
    terms_json: str
    edit_url: str | None
    diff_url: str | None  # against the version before it


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


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "host_name",
        "status",
        "in_force",
        "latest_parties",
        "open_version",
        "enrollment_count",  # not "enrollments": the admin would take it for the relation
    ]
    list_filter = ["status", PartyFilter]
    search_fields = ["title"]
    list_select_related = ["host"]
    fields = readonly_fields = (
        "title",
        "host",
        "status",
        "status_reason",
        "created_at",
        "updated_at",
    )
    change_form_template = "admin/federation/agreement/change_form.html"
    actions = None  # the actions need a reason or a party: buttons on each agreement's page

    # --- who may do what ----------------------------------------------------------------------

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_manage_agreements(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_agreements(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return may_manage_agreements(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The agreement's page is read-only: its versions change through the terms form and
        # its status through the actions, both calling the services.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # agreements end (terminated, expired); their history stays

    # --- the list -----------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agreement]:
        # Live enrollments, counted by a correlated subquery for the rows shown rather than
        # grouped over the whole table (an annotation here, so the column can be sorted on).
        live = (
            apps.get_model("federation", "Enrollment")
            .objects.filter(agreement=OuterRef("pk"), status__in=LIVE_ENROLLMENT)
            .order_by()
            .values("agreement")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(live_enrollments=Coalesce(Subquery(live, output_field=IntegerField()), 0))
        )

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return AgreementChangeList

    @admin.display(description="host", ordering="host__name_latin")
    def host_name(self, obj: Agreement) -> str:
        return obj.host.name_latin

    @admin.display(description="in force today")
    def in_force(self, obj: Agreement) -> str:
        # Only an active agreement has terms in force, whatever its signed versions say.
        version = (
            version_in_force(obj, timezone.localdate())
            if obj.status == Agreement.Status.ACTIVE
            else None
        )
        if version is None:
            return "—"
        return f"v{version.number}, until {version.valid_until:%Y-%m-%d}"

    @admin.display(description="parties (latest version)")
    def latest_parties(self, obj: Agreement) -> str:
        latest = _latest(obj.listed_versions)  # type: ignore[attr-defined]
        if latest is None:
            return "—"
        return ", ".join(party.partner.slug for party in latest.parties.all())

    @admin.display(description="open version")
    def open_version(self, obj: Agreement) -> str:
        version = _open(obj.listed_versions)  # type: ignore[attr-defined]
        if version is None:
            return "—"
        if version.status == AgreementVersion.Status.DRAFT:
            return f"v{version.number}: draft"
        parties = list(version.parties.all())
        signed = sum(1 for party in parties if party.signed_at is not None)
        return f"v{version.number}: {signed} of {len(parties)} signed"

    @admin.display(description="enrolled", ordering="live_enrollments")
    def enrollment_count(self, obj: Agreement) -> int:
        return int(obj.live_enrollments)  # type: ignore[attr-defined]

    # --- the agreement's page -----------------------------------------------------------------

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = dict(extra_context or {})
        if may_manage_agreements(request.user):
            agreement = self.get_object(request, unquote(object_id))
            if agreement is not None:
                context.update(self._versions_context(agreement))
        return super().change_view(request, object_id, form_url, context)

    def _url(self, name: str, *args: Any) -> str:
        return reverse(f"admin:federation_agreement_{name}", args=args)

    def _versions_context(self, agreement: Agreement) -> dict[str, Any]:
        versions = list(version_list(agreement=agreement))
        partners: dict[Any, Partner] = {}
        for version in versions:
            for each in version.parties.all():
                partners.setdefault(each.partner_id, each.partner)
        rows = [
            (partner, [_cell(version, _party_of(version, partner)) for version in versions])
            for partner in sorted(partners.values(), key=lambda p: p.slug)
        ]
        columns = [
            Column(
                version=version,
                terms_json=json.dumps(version.terms, indent=2, ensure_ascii=False),
                edit_url=(
                    self._url("version_edit", agreement.pk, version.number)
                    if version.status == AgreementVersion.Status.DRAFT
                    else None
                ),
                diff_url=(
                    f"{self._url('diff', agreement.pk)}?old={previous.number}&new={version.number}"
                    if previous is not None
                    else None
                ),
            )
            for previous, version in zip([None, *versions], versions, strict=False)
        ]
        open_version = _open(versions)
        ended = agreement.status in ENDED
        return {
            "may_manage": True,
            "columns": columns,
            "rows": rows,
            "open_version": open_version,
            "unsigned": [
                party
                for party in (open_version.parties.all() if open_version else [])
                if party.signed_at is None
            ],
            "signed_how": SIGNED_HOW,
            "can_draft": not ended and open_version is None,
            "can_suspend": agreement.status == Agreement.Status.ACTIVE,
            "can_resume": agreement.status == Agreement.Status.SUSPENDED,
            "can_terminate": not ended,
            "new_version_url": self._url("version_new", agreement.pk),
            "diff_url": self._url("diff", agreement.pk),
            "action_urls": {name: self._url("act", agreement.pk, name) for name in ACTIONS},
        }

    # --- custom pages -------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        def view(function: Callable[..., HttpResponse], name: str, route: str) -> URLPattern:
            return path(
                route, self.admin_site.admin_view(function), name=f"federation_agreement_{name}"
            )

        return [
            view(self.diff_view, "diff", "<path:object_id>/diff/"),
            view(self.version_new_view, "version_new", "<path:object_id>/versions/new/"),
            view(
                self.version_edit_view,
                "version_edit",
                "<path:object_id>/versions/<int:number>/edit/",
            ),
            view(self.action_view, "act", "<path:object_id>/act/<slug:action>/"),
            *super().get_urls(),
        ]

    def _agreement(self, request: HttpRequest, object_id: str) -> Agreement:
        if not may_manage_agreements(request.user):
            raise PermissionDenied
        agreement = self.get_object(request, unquote(object_id))
        if agreement is None:
            raise Http404("No such agreement.")
        return agreement

    def _change_url(self, agreement: Agreement) -> str:
        return self._url("change", agreement.pk)

    def diff_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """What changed between two versions: ?old=<n>&new=<m>, by default the latest version
        against the one before it."""
        agreement = self._agreement(request, object_id)
        versions = {version.number: version for version in version_list(agreement=agreement)}
        new_number = _number(request.GET.get("new"), default=max(versions, default=0))
        old_number = _number(request.GET.get("old"), default=new_number - 1)
        old, new = versions.get(old_number), versions.get(new_number)
        rows = None
        if old is not None and new is not None:
            rows = [(p, _shown(a), _shown(b)) for p, a, b in version_diff(old, new)]
        elif len(versions) > 1:
            raise Http404("No such version.")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": agreement,
            "title": f"{agreement}: v{old_number} → v{new_number}",
            "numbers": sorted(versions),
            "old": old,
            "new": new,
            "rows": rows,
            "change_url": self._change_url(agreement),
        }
        return TemplateResponse(request, "admin/federation/agreement/diff.html", context)

    # --- the terms form -----------------------------------------------------------------------

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self._terms_view(request, agreement=None, version=None)

    def version_new_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        agreement = self._agreement(request, object_id)
        return self._terms_view(request, agreement=agreement, version=None)

    def version_edit_view(self, request: HttpRequest, object_id: str, number: int) -> HttpResponse:
        agreement = self._agreement(request, object_id)
        version = agreement.versions.filter(number=number).first()
        if version is None:
            raise Http404("No such version.")
        if version.status != AgreementVersion.Status.DRAFT:
            messages.info(
                request,
                f"v{version.number} is {version.get_status_display().lower()}: only a draft "
                "can be changed. Its terms are shown below.",
            )
            return HttpResponseRedirect(self._change_url(agreement))
        return self._terms_view(request, agreement=agreement, version=version)

    def _terms_view(
        self,
        request: HttpRequest,
        *,
        agreement: Agreement | None,
        version: AgreementVersion | None,
    ) -> HttpResponse:
        """One form for the three cases: a new agreement (with its first version), the next
        version of an agreement (starting from the latest one), and a draft being changed."""
        creating = agreement is None
        host = agreement.host if agreement is not None else _the_host()
        party_errors: list[str] = []
        if request.method == "POST":
            form = VersionForm(request.POST, creating=creating)
            formset = PartyFormSet(request.POST, prefix="parties")
            if form.is_valid() and formset.is_valid():
                try:
                    saved = self._save_terms(
                        request, form.cleaned_data, formset, agreement, version
                    )
                except ApplicationError as exc:
                    party_errors = place_errors(exc, form)
                else:
                    return HttpResponseRedirect(self._change_url(saved))
        else:
            start = version
            if start is None and agreement is not None:
                start = _latest(list(agreement.versions.order_by("number")))
            initial = version_initial(start, host)
            if version is None and start is not None:  # a new version: effective from now on
                today = timezone.localdate()
                initial.update(effective_from=max(today, start.effective_from), summary="")
            form = VersionForm(initial=initial, creating=creating)
            formset = PartyFormSet(prefix="parties", initial=party_rows(start, host))
        if agreement is None:
            title = "Add agreement"
        elif version is None:
            title = f"New version of {agreement}"
        else:
            title = f"Draft v{version.number} of {agreement}"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "original": agreement,
            "version": version,
            "form": form,
            "formset": formset,
            "party_errors": party_errors,
            "has_errors": request.method == "POST",  # a saved form has redirected
            "change_url": self._change_url(agreement) if agreement is not None else None,
        }
        return TemplateResponse(request, "admin/federation/agreement/terms_form.html", context)

    def _save_terms(
        self,
        request: HttpRequest,
        data: dict[str, Any],
        formset: Any,
        agreement: Agreement | None,
        version: AgreementVersion | None,
    ) -> Agreement:
        terms: dict[str, Any] = {
            "parties": parties_from(formset),
            "terms": data["terms"],
            "effective_from": data["effective_from"],
            "valid_until": data["valid_until"],
            "summary": data["summary"],
            "actor": Actor.from_request(request),
        }
        if agreement is None:
            agreement = services.agreement_create(title=data["title"], host=data["host"], **terms)
            self.log_addition(request, agreement, "Created with draft v1.")
            messages.success(request, f"“{agreement}” is created with draft v1.")
        elif version is None:
            version = services.version_draft(agreement=agreement, **terms)
            self.log_change(request, agreement, f"Drafted v{version.number}.")
            messages.success(request, f"Draft v{version.number} is saved.")
        else:
            services.version_update(version=version, **terms)
            self.log_change(request, agreement, f"Changed draft v{version.number}.")
            messages.success(request, f"Draft v{version.number} is saved.")
        return agreement

    # --- actions --------------------------------------------------------------------------------

    def action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        """POST only: a link followed, prefetched or crawled changes nothing."""
        agreement = self._agreement(request, object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        run = ACTIONS.get(action)
        if run is None:
            raise Http404("No such action.")
        try:
            done = run(request, agreement, Actor.from_request(request))
        except ApplicationError as exc:
            messages.error(request, error_text(exc))
        else:
            self.log_change(request, agreement, done)
            messages.success(request, done)
        return HttpResponseRedirect(self._change_url(agreement))


def _party_of(version: AgreementVersion, partner: Partner) -> AgreementParty | None:
    return next((p for p in version.parties.all() if p.partner_id == partner.pk), None)


def _the_host() -> Partner | None:
    return Partner.objects.filter(kind=Partner.Kind.HOST).first()


def _number(raw: str | None, *, default: int) -> int:
    if raw is None or raw == "":
        return default
    number = whole_number(raw)
    if number is None:
        raise Http404("No such version.")
    return number


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
