"""Holdout groups in the alliance console, read-only: each programme's recorded share and
seed, from which anyone can reproduce who was held out."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from consent.names import partner_name
from federation.holdouts.models import Holdout
from federation.kernel.admin import AllianceConsoleAdmin, related_filter
from partners.admin.export import CsvExportMixin


@admin.register(Holdout)
class HoldoutAdmin(CsvExportMixin, AllianceConsoleAdmin):
    list_display = ["key", "kind", "company_name", "percent", "created_at"]
    list_filter = [related_filter("company", gettext_lazy("company")), "kind", "created_at"]
    search_fields = ["key", "=seed"]
    list_select_related = ["company"]
    fields = readonly_fields = ("key", "kind", "company", "percent", "seed", "created_at")
    csv_fields = ["id", "key", "kind", "company__slug", "percent", "seed", "created_at"]

    @admin.display(description=gettext_lazy("company"), ordering="company__name_latin")
    def company_name(self, obj: Holdout) -> str:
        return partner_name(obj.company)
