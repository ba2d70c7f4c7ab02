"""The coin ledger in the alliance console, read-only: accounts, transactions with their
entries, lots, holds and clawbacks, and an overview page with the ledger's verification and
the coins issued, redeemed and expired per company per month. Coins move only through the
coin services; nothing here writes."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consent.names import partner_name
from federation.coins.admin_deposit import deposit_report_view
from federation.coins.models import (
    CoinAccount,
    CoinClawback,
    CoinEntry,
    CoinHold,
    CoinLot,
    CoinTransaction,
)
from federation.coins.selectors import ledger_verify, members_expiring, monthly_flows
from federation.kernel.admin import AllianceConsoleAdmin, related_filter
from partners.admin.export import CsvExportMixin
from partners.charts import Chart, Series, stacked_bar_chart
from partners.models import Partner

OVERVIEW_MONTHS = 12
EXPIRY_WINDOWS = (7, 14, 30, 60, 90, 180, 365)
# What ``ledger_verify`` reports, in the reader's language.
MISMATCHES = {
    "account balance": gettext_lazy("the balance of account"),
    "account version": gettext_lazy("the version of account"),
    "last entry balance": gettext_lazy("the last entry's balance of account"),
    "transaction sum": gettext_lazy("the sum of transaction"),
    "entry version": gettext_lazy("the number of entries of account/version"),
    "entry posted at": gettext_lazy("the posting time of entry"),
}


@admin.register(CoinAccount)
class CoinAccountAdmin(CsvExportMixin, AllianceConsoleAdmin):
    list_display = ["id", "kind", "owner", "shard", "balance", "version"]
    list_filter = ["kind", related_filter("partner", gettext_lazy("company"))]
    search_fields = ["=id", "=person__id", "partner__slug"]
    list_select_related = ["partner"]
    ordering = ["kind", "partner__slug", "shard"]
    fields = readonly_fields = (
        "kind",
        "person",
        "partner",
        "shard",
        "balance",
        "version",
        "created_at",
    )
    csv_fields = ["id", "kind", "person_id", "partner__slug", "shard", "balance", "version"]

    @admin.display(description=gettext_lazy("owner"))
    def owner(self, obj: CoinAccount) -> str:
        return partner_name(obj.partner) if obj.partner else str(obj.person_id)[:8]

    def get_urls(self) -> list[URLPattern]:
        pages = self.custom_urls(
            ("overview/", "overview", self.overview),
            ("expiring/", "expiring", self.expiring),
            ("deposit-report/", "deposit_report", partial(deposit_report_view, self)),
        )
        return pages + super().get_urls()

    def expiring(self, request: HttpRequest) -> HttpResponse:
        """A company's members whose coins expire soon, to remind them: the same list the
        company reads through the API (``members_expiring``), 500 at a time."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        companies = Partner.objects.filter(holds_customer_data=True).order_by("slug")
        company = companies.filter(slug=request.GET.get("company", "")).first()
        days = request.GET.get("days", "30")
        days = days if days in {str(d) for d in EXPIRY_WINDOWS} else "30"
        rows: Any = []
        if company is not None:
            soon = members_expiring(company, within=timedelta(days=int(days)))
            rows = soon.order_by(F("first_expiry").asc())[:500]
        return self.page(
            request,
            "admin/federation/coins/expiring.html",
            title=_("Members whose coins expire soon"),
            companies=[(p.slug, partner_name(p)) for p in companies],
            company=company,
            windows=EXPIRY_WINDOWS,
            days=days,
            rows=rows,
        )

    def overview(self, request: HttpRequest) -> HttpResponse:
        """The ledger at a glance: does it verify, and how coins flowed per company."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        since = _months_back(today, OVERVIEW_MONTHS - 1)
        return self.page(
            request,
            "admin/federation/coins/overview.html",
            title=_("Coin ledger overview"),
            mismatch=(mismatch := ledger_verify()),
            mismatch_what=mismatch and MISMATCHES.get(mismatch.what, mismatch.what),
            charts=_flow_charts(monthly_flows(since), since, today),
            since=since,
        )


def _months_back(today: date, months: int) -> date:
    """The first day of the month ``months`` before ``today``'s (after, when negative)."""
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _flow_charts(flows: list[Any], since: date, today: date) -> list[Chart]:
    months: list[date] = []
    cursor = since
    while cursor <= today:
        months.append(cursor)
        cursor = _months_back(cursor, -1)
    names = {
        p.pk: partner_name(p) for p in Partner.objects.filter(pk__in={f.partner_id for f in flows})
    }
    labels = [date_format(month, "YEAR_MONTH_FORMAT") for month in months]
    charts = []
    for title, figure in (
        (_("Coins issued per company"), "issued"),
        (_("Coins redeemed per company"), "redeemed"),
        (_("Coins expired per company"), "expired"),
    ):
        series = [
            Series(
                name,
                [
                    sum(getattr(f, figure) for f in flows if f.partner_id == pk and f.month == m)
                    for m in months
                ],
            )
            for pk, name in sorted(names.items(), key=lambda item: item[1])
        ]
        charts.append(
            stacked_bar_chart(title=title, labels=labels, series=series, label_header=_("month"))
        )
    return charts


class EntryInline(admin.TabularInline):
    model = CoinEntry
    fields = readonly_fields = ("account", "amount", "balance_after", "account_version")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CoinTransaction)
class CoinTransactionAdmin(CsvExportMixin, AllianceConsoleAdmin):
    list_display = ["posted_at", "kind", "partner_name", "why", "reverses"]
    list_filter = ["kind", related_filter("partner", gettext_lazy("posted by")), "posted_at"]
    search_fields = ["=id", "=reverses__id", "partner__slug"]
    list_select_related = ["partner"]
    date_hierarchy = "posted_at"
    fields = readonly_fields = ("id", "kind", "partner", "reason", "reverses", "posted_at")
    inlines = [EntryInline]
    csv_fields = ["id", "posted_at", "kind", "partner__slug", "reverses_id", "reason"]

    @admin.display(description=gettext_lazy("posted by"), ordering="partner__name_latin")
    def partner_name(self, obj: CoinTransaction) -> str:
        return partner_name(obj.partner) if obj.partner else "—"

    @admin.display(description=gettext_lazy("reason"))
    def why(self, obj: CoinTransaction) -> str:
        return ", ".join(f"{key}: {value}" for key, value in sorted(obj.reason.items()))[:120]


@admin.register(CoinLot)
class CoinLotAdmin(CsvExportMixin, AllianceConsoleAdmin):
    list_display = [
        "issued_at",
        "issuer",
        "amount",
        "remaining",
        "yen_per_coin",
        "pending_until",
        "expires_at",
    ]
    list_filter = [related_filter("issuer", gettext_lazy("issuer")), "issued_at", "expires_at"]
    search_fields = ["=person__id", "=earned_by__id", "issuer__slug"]
    list_select_related = ["issuer"]
    date_hierarchy = "issued_at"
    fields = readonly_fields = (
        "person",
        "issuer",
        "earned_by",
        "yen_per_coin",
        "amount",
        "remaining",
        "issued_at",
        "pending_until",
        "released_at",
        "expires_at",
    )
    csv_fields = [
        "id",
        "person_id",
        "issuer__slug",
        "earned_by_id",
        "yen_per_coin",
        "amount",
        "remaining",
        "issued_at",
        "pending_until",
        "released_at",
        "expires_at",
    ]


@admin.register(CoinHold)
class CoinHoldAdmin(CsvExportMixin, AllianceConsoleAdmin):
    list_display = ["created_at", "merchant", "coins", "captured", "state", "expires_at"]
    list_filter = ["state", related_filter("merchant", gettext_lazy("company")), "created_at"]
    search_fields = ["=id", "=person__id", "merchant__slug"]
    list_select_related = ["merchant"]
    fields = readonly_fields = (
        "id",
        "person",
        "merchant",
        "coins",
        "captured",
        "state",
        "held_by",
        "created_at",
        "expires_at",
        "resolved_at",
    )
    csv_fields = [
        "id",
        "person_id",
        "merchant__slug",
        "coins",
        "captured",
        "state",
        "created_at",
        "expires_at",
        "resolved_at",
    ]


@admin.register(CoinClawback)
class CoinClawbackAdmin(CsvExportMixin, AllianceConsoleAdmin):
    list_display = ["recorded_at", "issuer", "requested", "recovered", "shortfall", "shortfall_yen"]
    list_filter = [related_filter("issuer", gettext_lazy("issuer")), "recorded_at"]
    search_fields = ["=earned_by__id", "issuer__slug"]
    list_select_related = ["issuer"]
    fields = readonly_fields = (
        "earned_by",
        "refund",
        "issuer",
        "requested",
        "recovered",
        "shortfall",
        "shortfall_yen",
        "recorded_at",
    )
    csv_fields = [
        "id",
        "recorded_at",
        "issuer__slug",
        "earned_by_id",
        "requested",
        "recovered",
        "shortfall",
        "shortfall_yen",
    ]
