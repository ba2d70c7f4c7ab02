"""Overlap in the alliance console: who may see counts of whose base, set only through
``overlap_visibility_set`` (which audits), and the log of every question asked, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from consent.names import partner_name
from federation.kernel.admin import AllianceConsoleAdmin, is_alliance_manager, related_filter
from federation.overlap.models import OverlapQuery, OverlapVisibility
from federation.overlap.services import overlap_visibility_set
from partners.actors import Actor
from partners.admin.base import ServiceErrorsAsMessages, adopt, error_text
from partners.admin.export import CsvExportMixin
from partners.errors import ApplicationError


@admin.register(OverlapVisibility)
class OverlapVisibilityAdmin(CsvExportMixin, ServiceErrorsAsMessages, AllianceConsoleAdmin):
    """A company's choice of who may see counts of its base, recorded by a manager on its
    behalf. The pair is fixed once set; only the level changes."""

    list_display = ["owner_name", "viewer_name", "level", "updated_at", "updated_by"]
    list_filter = [
        "level",
        related_filter("owner", _("owner")),
        related_filter("viewer", _("viewer")),
        "updated_at",
    ]
    list_select_related = ["owner", "viewer"]
    search_fields = ["owner__slug", "owner__name_latin", "viewer__slug", "viewer__name_latin"]
    fields = ["owner", "viewer", "level", "updated_at", "updated_by"]
    actions = ["allow_counts", "allow_nothing"]
    csv_fields = ["owner__slug", "viewer__slug", "level", "updated_at", "updated_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_alliance_manager(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_alliance_manager(request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["updated_at", "updated_by"]
        return ["owner", "viewer", "updated_at", "updated_by"]

    @admin.display(description=_("owner"), ordering="owner__name_latin")
    def owner_name(self, obj: OverlapVisibility) -> str:
        return partner_name(obj.owner)

    @admin.display(description=_("viewer"), ordering="viewer__name_latin")
    def viewer_name(self, obj: OverlapVisibility) -> str:
        return partner_name(obj.viewer)

    def save_model(
        self, request: HttpRequest, obj: OverlapVisibility, form: Any, change: bool
    ) -> None:
        visibility = overlap_visibility_set(
            owner=obj.owner, viewer=obj.viewer, level=obj.level, actor=Actor.from_request(request)
        )
        adopt(obj, visibility)

    @admin.action(description=_("Let the viewer see counts"))
    def allow_counts(self, request: HttpRequest, queryset: QuerySet[OverlapVisibility]) -> None:
        self._set_level(request, queryset, OverlapVisibility.Level.COUNTS)

    @admin.action(description=_("Let the viewer see nothing"))
    def allow_nothing(self, request: HttpRequest, queryset: QuerySet[OverlapVisibility]) -> None:
        self._set_level(request, queryset, OverlapVisibility.Level.NOTHING)

    def _set_level(
        self, request: HttpRequest, queryset: QuerySet[OverlapVisibility], level: str
    ) -> None:
        actor = Actor.from_request(request)
        changed = 0
        for visibility in queryset.select_related("owner", "viewer"):
            try:
                overlap_visibility_set(
                    owner=visibility.owner, viewer=visibility.viewer, level=level, actor=actor
                )
            except ApplicationError as exc:
                messages.error(request, error_text(exc))
            else:
                changed += 1
        messages.success(
            request,
            ngettext(
                "%(count)s setting changed to “%(level)s”.",
                "%(count)s settings changed to “%(level)s”.",
                changed,
            )
            % {"count": changed, "level": OverlapVisibility.Level(level).label},
        )


@admin.register(OverlapQuery)
class OverlapQueryAdmin(CsvExportMixin, AllianceConsoleAdmin):
    """Every overlap question, as the service logged it: who asked about whom, broken down how,
    and how many cells came back or were withheld. Never the counts themselves."""

    list_display = [
        "asked_at",
        "asker_name",
        "other_name",
        "agreement",
        "breakdown_name",
        "cells",
        "suppressed",
        "min_cell",
        "asked_by",
    ]
    list_filter = [
        related_filter("asker", _("asker")),
        related_filter("other", _("other company")),
        related_filter("agreement", _("agreement"), key="id", label="title"),
        "breakdown",
        "asked_at",
    ]
    list_select_related = ["asker", "other", "agreement"]
    search_fields = ["asker__slug", "other__slug", "asked_by", "agreement__title"]
    date_hierarchy = "asked_at"
    fields = readonly_fields = (
        "id",
        "asked_at",
        "asker",
        "other",
        "agreement",
        "breakdown",
        "min_cell",
        "cells",
        "suppressed",
        "asked_by",
    )
    csv_fields = [
        "asked_at",
        "asker__slug",
        "other__slug",
        "agreement__title",
        "breakdown",
        "min_cell",
        "cells",
        "suppressed",
        "asked_by",
    ]

    @admin.display(description=_("asker"), ordering="asker__name_latin")
    def asker_name(self, obj: OverlapQuery) -> str:
        return partner_name(obj.asker)

    @admin.display(description=_("other company"), ordering="other__name_latin")
    def other_name(self, obj: OverlapQuery) -> str:
        return partner_name(obj.other)

    @admin.display(description=_("breakdown"), ordering="breakdown")
    def breakdown_name(self, obj: OverlapQuery) -> str:
        return str(BREAKDOWN_NAMES.get(obj.breakdown, obj.breakdown))


BREAKDOWN_NAMES = {
    "": _("none (the total)"),
    "age_band": _("age band"),
    "prefecture": _("prefecture"),
    "kind": _("member type"),
}
