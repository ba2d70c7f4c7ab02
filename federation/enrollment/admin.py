"""Enrollments and campaigns (enrollment batches) in the alliance console: records, read-only.
A batch's page says, for every number it was sent, whether the member was enrolled and why not
(``selectors.batch_member_outcomes``). No personal data is shown: members by their number at
the source, companies by name."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from consent.names import partner_name
from federation.enrollment.models import Enrollment, EnrollmentBatch
from federation.enrollment.selectors import BatchOutcome, batch_member_outcomes
from federation.kernel.admin import AllianceConsoleAdmin, related_filter
from partners.admin.export import CsvExportMixin
from partners.pii import PSEUDONYM_PREFIX, member_id_from_pseudonym

OUTCOMES_PER_PAGE = 100


def _uuid(term: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(term.strip())
    except ValueError:
        return None


class CompaniesColumns(CsvExportMixin, AllianceConsoleAdmin):
    """The source and target columns, named as the manager's language writes them."""

    @admin.display(description=_("source"), ordering="source__name_latin")
    def source_name(self, obj: Any) -> str:
        return partner_name(obj.source)

    @admin.display(description=_("target"), ordering="target__name_latin")
    def target_name(self, obj: Any) -> str:
        return partner_name(obj.target)


@admin.register(Enrollment)
class EnrollmentAdmin(CompaniesColumns):
    list_display = [
        "requested_at",
        "member_number",
        "source_name",
        "target_name",
        "agreement",
        "status",
        "batch_short",
        "confirmed_at",
    ]
    list_filter = [
        "status",
        related_filter("source", _("source")),
        related_filter("target", _("target")),
        related_filter("agreement", _("agreement"), key="id", label="title"),
        "requested_at",
        "confirmed_at",
        "ended_at",
    ]
    list_select_related = ["member", "source", "target", "agreement"]
    search_fields = ["member__member_number", "target_member_number"]
    search_help_text = _(
        "A member number (the source's or the target's), the target's pseudonymous ID for the "
        "member (mp_…), an enrollment ID or a batch ID."
    )
    date_hierarchy = "requested_at"
    fields = readonly_fields = (
        "id",
        "member_number",
        "source_name",
        "target_name",
        "agreement",
        "fields",
        "status",
        "target_member_number",
        "requested_at",
        "requested_by",
        "batch_link",
        "confirmed_at",
        "ended_at",
        "ended_reason",
    )
    csv_fields = [
        "id",
        "requested_at",
        "member__member_number",
        "source__slug",
        "target__slug",
        "agreement__title",
        "status",
        "target_member_number",
        "batch_id",
        "confirmed_at",
        "ended_at",
        "ended_reason",
    ]

    @admin.display(description=_("member number"), ordering="member__member_number")
    def member_number(self, obj: Enrollment) -> str:
        return obj.member.member_number

    @admin.display(description=_("enrollment batch"), ordering="batch")
    def batch_short(self, obj: Enrollment) -> str:
        return str(obj.batch_id)[:8] if obj.batch_id else "—"

    @admin.display(description=_("enrollment batch"))
    def batch_link(self, obj: Enrollment) -> str:
        if obj.batch_id is None:
            return "—"
        url = reverse(
            f"{self.admin_site.name}:federation_enrollmentbatch_change", args=[obj.batch_id]
        )
        return format_html('<a href="{}">{}</a>', url, obj.batch_id)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        enrollment = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if enrollment is not None:  # the model's own name for it is English, for logs
            context["subtitle"] = gettext("%(member)s in %(target)s's program: %(status)s") % {
                "member": enrollment.member.member_number,
                "target": partner_name(enrollment.target),
                "status": enrollment.get_status_display(),
            }
        return super().change_view(request, object_id, form_url, context)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        # An ID is matched whole (a UUID column takes no partial match), a number as typed.
        found, duplicates = super().get_search_results(request, queryset, search_term)
        ids = [value for value in map(_uuid, search_term.split()) if value is not None]
        if ids:
            found |= queryset.filter(Q(pk__in=ids) | Q(batch_id__in=ids))
        pseudonyms = [term for term in search_term.split() if term.startswith(PSEUDONYM_PREFIX)]
        if pseudonyms:
            found |= queryset.filter(_by_pseudonyms(pseudonyms))
        return found, duplicates


def _by_pseudonyms(pseudonyms: list[str]) -> Q:
    """The enrollments a target knows under one of ``pseudonyms``: a pseudonym is the member's
    id enciphered under the target's key, so it is deciphered under each target's key in turn
    (a handful of companies) and matched on the pair, never on a stored copy."""
    match = Q(pk__in=[])
    targets = Enrollment.objects.order_by().values_list("target_id", flat=True).distinct()
    for target_id in targets:
        for pseudonym in pseudonyms:
            member_id = member_id_from_pseudonym(pseudonym, target_id)
            if member_id is not None:
                match |= Q(target_id=target_id, member_id=member_id)
    return match


@admin.register(EnrollmentBatch)
class EnrollmentBatchAdmin(CompaniesColumns):
    list_display = [
        "created_at",
        "short_id",
        "source_name",
        "target_name",
        "status",
        "progress",
        "enrolled",
        "finished_at",
    ]
    list_filter = [
        "status",
        related_filter("source", _("source")),
        related_filter("target", _("target")),
        "created_at",
        "finished_at",
    ]
    list_select_related = ["source", "target"]
    search_fields = ["requested_by"]
    search_help_text = _("A batch ID, or who requested it.")
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "id",
        "source_name",
        "target_name",
        "status",
        "total",
        "processed",
        "enrolled",
        "fields",
        "error",
        "requested_by",
        "created_at",
        "finished_at",
    )
    csv_fields = [
        "id",
        "created_at",
        "source__slug",
        "target__slug",
        "status",
        "total",
        "processed",
        "enrolled",
        "error",
        "requested_by",
        "finished_at",
    ]
    change_form_template = "admin/federation/enrollmentbatch/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[EnrollmentBatch]:
        # The numbers sent (up to 50,000) are read on the batch's own page, never for the list.
        queryset: QuerySet[EnrollmentBatch] = super().get_queryset(request)
        if request.resolver_match and (request.resolver_match.url_name or "").endswith(
            "_changelist"
        ):
            return queryset.defer("member_numbers")
        return queryset

    @admin.display(description=_("ID"))
    def short_id(self, obj: EnrollmentBatch) -> str:
        return str(obj.pk)[:8]

    @admin.display(description=_("processed"))
    def progress(self, obj: EnrollmentBatch) -> str:
        return gettext("%(processed)s of %(total)s") % {
            "processed": f"{obj.processed:,}",
            "total": f"{obj.total:,}",
        }

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        found, duplicates = super().get_search_results(request, queryset, search_term)
        ids = [value for value in map(_uuid, search_term.split()) if value is not None]
        if ids:
            found |= queryset.filter(pk__in=ids)
        return found, duplicates

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        batch = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if batch is not None and self.has_view_permission(request, batch):
            context.update(self._outcomes_context(request, batch))
            context["subtitle"] = gettext("Batch %(id)s: %(status)s") % {
                "id": str(batch.pk)[:8],
                "status": batch.get_status_display(),
            }
        return super().change_view(request, object_id, form_url, context)

    def _outcomes_context(self, request: HttpRequest, batch: EnrollmentBatch) -> dict[str, Any]:
        pages = Paginator(range(batch.total), OUTCOMES_PER_PAGE)
        page = pages.get_page(request.GET.get("outcomes"))
        rows = batch_member_outcomes(
            batch, start=page.start_index() - 1 if batch.total else 0, count=OUTCOMES_PER_PAGE
        )
        return {
            "outcome_page": page,
            "outcome_rows": [
                {
                    "position": row.position,
                    "member_number": row.member_number,
                    "enrolled": row.enrolled,
                    "reasons": [(code.value, code.label) for code in row.outcomes],
                    "enrollment_link": self._enrollment_link(row.enrollment),
                }
                for row in rows
            ],
            "outcome_codes": BatchOutcome,
        }

    def _enrollment_link(self, enrollment: Enrollment | None) -> str:
        if enrollment is None:
            return ""
        return format_html(
            '<a href="{}">{}</a>',
            reverse(f"{self.admin_site.name}:federation_enrollment_change", args=[enrollment.pk]),
            enrollment.get_status_display(),
        )
