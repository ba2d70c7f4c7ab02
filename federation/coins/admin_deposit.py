"""The deposit report in the alliance console: every issuer's Payment Services Act figures at
a base date (the latest ended one by default), on screen and as CSV. Read-only; like the
console's other CSV exports it carries no personal data, so it writes no audit event."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from consent.names import partner_name
from federation.coins.reports import (
    DepositReport,
    deposit_reports,
    is_reportable,
    latest_base_date,
    previous_base_date,
)
from federation.kernel.admin import AllianceConsoleAdmin
from partners.admin.export import csv_download

# Base dates offered in the chooser, the latest first.
CHOICES = 8


def deposit_report_view(console: AllianceConsoleAdmin, request: HttpRequest) -> HttpResponse:
    """Every issuer's report at ``?base_date=`` (an ended base date; anything else shows the
    latest), with ``?format=csv`` for the same rows as a file."""
    if not console.has_view_permission(request):
        raise PermissionDenied
    choices = [latest_base_date()]
    while len(choices) < CHOICES:
        choices.append(previous_base_date(choices[-1]))
    base_date = _chosen(request.GET.get("base_date", ""), default=choices[0])
    reports = deposit_reports(base_date)
    if request.GET.get("format") == "csv":
        # A streamed file, not an HttpResponse; the console's pages are typed as the latter.
        download = csv_download(_csv_rows(reports), name="deposit-report", label=str(base_date))
        return cast(HttpResponse, download)
    response: HttpResponse = console.page(
        request,
        "admin/federation/coins/deposit_report.html",
        title=_("Deposit report (Payment Services Act)"),
        base_date=base_date,
        choices=choices,
        rows=[(partner_name(report.issuer), report) for report in reports],
    )
    return response


def _chosen(raw: str, *, default: date) -> date:
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return default
    return day if is_reportable(day) else default


def _csv_rows(reports: list[DepositReport]) -> Any:
    yield [
        _("issuer"),
        _("base date"),
        _("half-year from"),
        _("unused coins"),
        _("unused (yen)"),
        _("coins issued"),
        _("issued (yen)"),
        _("coins taken back"),
        _("taken back (yen)"),
        _("coins used"),
        _("used (yen)"),
        _("coins expired"),
        _("expired (yen)"),
        _("threshold (yen)"),
        _("excess (yen)"),
        _("report required"),
        _("deposit (yen)"),
    ]
    for report in reports:
        figures = (report.unused, report.issued, report.cancelled, report.used, report.expired)
        yield [
            report.issuer.slug,
            report.base_date,
            report.period_start,
            *(value for figure in figures for value in (figure.coins, figure.yen)),
            report.threshold_yen,
            report.excess_yen,
            report.report_required,
            report.deposit_yen,
        ]
