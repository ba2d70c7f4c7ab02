"""Coins for actions in the alliance console, read-only: every action that earned coins (with
its type, content and posting) and every dormant member reactivated by one, with the bonus and
how long they slept. Both are written only by ``coins_earn_for_action``."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from consent.names import partner_name
from federation.coins.models import CoinActionGrant, CoinReactivation
from federation.kernel.admin import AllianceConsoleAdmin, related_filter
from partners.admin.export import CsvExportMixin


@admin.register(CoinActionGrant)
class CoinActionGrantAdmin(CsvExportMixin, AllianceConsoleAdmin):
    list_display = ["occurred_at", "company_name", "action_type", "content_id", "coins", "member"]
    list_filter = [
        related_filter("company", gettext_lazy("company")),
        "action_type",
        "once_per_content",
        "occurred_at",
    ]
    search_fields = ["action_type", "content_id", "=member__member_number", "=person__id"]
    list_select_related = ["company", "member"]
    date_hierarchy = "occurred_at"
    fields = readonly_fields = (
        "company",
        "member",
        "person",
        "action_type",
        "content_id",
        "once_per_content",
        "coins",
        "occurred_at",
        "granted_at",
        "transaction",
    )
    csv_fields = [
        "id",
        "occurred_at",
        "granted_at",
        "company__slug",
        "member__member_number",
        "action_type",
        "content_id",
        "once_per_content",
        "coins",
        "transaction_id",
    ]

    @admin.display(description=gettext_lazy("company"), ordering="company__name_latin")
    def company_name(self, obj: CoinActionGrant) -> str:
        return partner_name(obj.company)


@admin.register(CoinReactivation)
class CoinReactivationAdmin(CsvExportMixin, AllianceConsoleAdmin):
    list_display = ["reactivated_at", "company_name", "member", "dormant_days", "bonus"]
    list_filter = [related_filter("company", gettext_lazy("company")), "reactivated_at"]
    search_fields = ["=member__member_number", "=person__id", "grant__action_type"]
    list_select_related = ["company", "member"]
    date_hierarchy = "reactivated_at"
    fields = readonly_fields = (
        "company",
        "member",
        "person",
        "grant",
        "last_active_at",
        "dormant_days",
        "bonus",
        "bonus_transaction",
        "reactivated_at",
    )
    csv_fields = [
        "id",
        "reactivated_at",
        "company__slug",
        "member__member_number",
        "grant__action_type",
        "grant__content_id",
        "last_active_at",
        "dormant_days",
        "bonus",
        "bonus_transaction_id",
    ]

    @admin.display(description=gettext_lazy("company"), ordering="company__name_latin")
    def company_name(self, obj: CoinReactivation) -> str:
        return partner_name(obj.company)
