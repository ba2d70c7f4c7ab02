"""Metrics in the alliance console: the dashboard (charts of a company's or the alliance's
figures over a period, the coins spent between companies, the measured lift of a company's
reactivation bonus), and the daily figures and kept lift results, read-only, with filters,
search and CSV."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consent.names import partner_name
from federation.kernel.admin import AllianceConsoleAdmin, related_filter
from federation.metrics.dashboard import board
from federation.metrics.days import parse_day
from federation.metrics.figures import GRAINS
from federation.metrics.models import DailyFigure, LiftResult
from partners.admin.export import CsvExportMixin
from partners.models import Partner

DEFAULT_DAYS = 90
MAX_DAYS = 366


def _day(raw: str | None, default: date) -> date:
    return parse_day(raw) or default


def asked(request: HttpRequest) -> tuple[Partner | None, date, date, str]:
    """The dashboard's filters, each falling back to its default when missing or malformed:
    the whole alliance, the last 90 days, by week."""
    params = request.GET
    last = _day(params.get("to"), timezone.localdate())
    first = _day(params.get("from"), last - timedelta(days=DEFAULT_DAYS - 1))
    if not timedelta(0) <= last - first < timedelta(days=MAX_DAYS):
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    grain = params.get("grain") if params.get("grain") in GRAINS else "week"
    company = Partner.objects.filter(slug=params.get("company") or "").first()
    return company, first, last, str(grain)


@admin.register(DailyFigure)
class DailyFigureAdmin(CsvExportMixin, AllianceConsoleAdmin):
    list_display = ["day", "metric", "company_name", "counterparty", "value"]
    list_filter = [
        "metric",
        related_filter("company", gettext_lazy("company")),
        related_filter("counterparty", gettext_lazy("counterparty")),
        "day",
    ]
    search_fields = ["=company__slug", "=counterparty__slug"]
    list_select_related = ["company", "counterparty"]
    date_hierarchy = "day"
    ordering = ["-day", "metric"]
    change_list_template = "admin/federation/metrics/figure_change_list.html"
    fields = readonly_fields = ("day", "metric", "company", "counterparty", "value")
    csv_fields = ["day", "metric", "company__slug", "counterparty__slug", "value"]

    @admin.display(description=gettext_lazy("company"), ordering="company__name_latin")
    def company_name(self, obj: DailyFigure) -> str:
        return partner_name(obj.company)

    def get_urls(self) -> list[URLPattern]:
        return (
            self.custom_urls(("dashboard/", "dashboard", self.dashboard_view)) + super().get_urls()
        )

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        company, first, last, grain = asked(request)
        csv_query = f"?day__gte={first}&day__lte={last}"
        if company is not None:
            csv_query += f"&company={company.slug}"
        return self.page(
            request,
            "admin/federation/metrics/dashboard.html",
            title=_("Metrics"),
            board=board(company, first, last, grain),
            company=company,
            companies=[(p.slug, partner_name(p)) for p in Partner.objects.order_by("slug")],
            first=first,
            last=last,
            grain=grain,
            grains=[("day", _("by day")), ("week", _("by week")), ("month", _("by month"))],
            csv_url=format_html("{}{}", self.url_of("changelist"), csv_query),
        )


@admin.register(LiftResult)
class LiftResultAdmin(CsvExportMixin, AllianceConsoleAdmin):
    list_display = ["programme", "company_name", "start", "end", "dormant_days", "computed_at"]
    list_filter = [related_filter("company", gettext_lazy("company")), "start"]
    search_fields = ["programme"]
    list_select_related = ["company"]
    fields = readonly_fields = (
        "programme",
        "company",
        "start",
        "end",
        "dormant_days",
        "figures",
        "computed_at",
    )
    csv_fields = ["programme", "company__slug", "start", "end", "dormant_days", "computed_at"]

    @admin.display(description=gettext_lazy("company"), ordering="company__name_latin")
    def company_name(self, obj: LiftResult) -> str:
        return partner_name(obj.company)
