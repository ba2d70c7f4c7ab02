"""Agreements in the console: the list, each agreement's versions and signatures side by side,
the terms form (a new agreement, a new version, a draft), the diff between two versions, and
the lifecycle actions. Every write is a call to ``federation.agreements.services``; a refusal is
shown as a message or next to the form's fields, never as a server error.

The pages live in modules of their own (``listing``, ``page``, ``drafting``, ``diff``,
``actions``); ``AgreementAdmin`` puts them together."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern

from federation.agreements.admin.actions import ActionPage
from federation.agreements.admin.diff import DiffPage
from federation.agreements.admin.drafting import DraftingPages
from federation.agreements.admin.listing import AgreementColumns, PartyFilter
from federation.agreements.admin.page import versions_context
from federation.agreements.models import Agreement
from federation.kernel.admin import count_of, is_alliance_manager
from partners.admin.export import CsvExportMixin

# Alliance managers run agreements in the console, as every federation page.
may_manage_agreements = is_alliance_manager
# Enrollment is a domain built on agreements, so the console reads its rows by model name
# (apps.get_model) rather than importing it: agreements never depend on the domains above.
LIVE_ENROLLMENT = ("active", "confirmed")


@admin.register(Agreement)
class AgreementAdmin(CsvExportMixin, AgreementColumns, DraftingPages, DiffPage, ActionPage):
    csv_fields = [
        "title",
        "host_name",
        "status",
        "in_force",
        "latest_parties",
        "open_version",
        "enrollment_count",
        "created_at",
    ]
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

    # The agreement's page is read-only (AllianceConsoleAdmin allows no change or delete): its
    # versions change through the terms form and its status through the actions, both calling
    # the services; agreements end (terminated, expired), and their history stays.

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agreement]:
        # Live enrollments, counted for the rows shown (an annotation, so the column sorts).
        live = apps.get_model("federation", "Enrollment").objects.filter(status__in=LIVE_ENROLLMENT)
        return (
            super()
            .get_queryset(request)
            .annotate(live_enrollments=count_of(live, through="agreement"))
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = dict(extra_context or {})
        if is_alliance_manager(request.user):
            agreement = self.get_object(request, unquote(object_id))
            if agreement is not None:
                context.update(versions_context(agreement, self.url_of))
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self) -> list[URLPattern]:
        return [
            *self.custom_urls(
                ("<path:object_id>/diff/", "diff", self.diff_view),
                ("<path:object_id>/versions/new/", "version_new", self.version_new_view),
                (
                    "<path:object_id>/versions/<int:number>/edit/",
                    "version_edit",
                    self.version_edit_view,
                ),
                ("<path:object_id>/act/<slug:action>/", "act", self.action_view),
            ),
            *super().get_urls(),
        ]
