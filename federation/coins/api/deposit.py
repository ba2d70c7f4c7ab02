"""The caller's Payment Services Act report: its own unused coins at a base date."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from federation.coins.reports import (
    FIRST_BASE_DATE,
    DepositReport,
    Figure,
    deposit_report,
    is_base_date,
    is_reportable,
    latest_base_date,
)
from federation.kernel.api import READ, FederationEndpoint
from partners.api.schema import raises
from partners.errors import ErrorCode, validation_failed


def _yen(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=24, decimal_places=0, help_text=help_text)


class FigureOutput(serializers.Serializer):
    coins = serializers.IntegerField()
    yen = _yen("Their value, each lot at its own yen per coin, rounded down to the yen.")


class DepositReportOutput(serializers.Serializer):
    issuer = serializers.CharField(help_text="Your company.")
    base_date = serializers.DateField(help_text="31 March or 30 September.")
    period_start = serializers.DateField(help_text="The half-year's first day.")
    unused = FigureOutput(
        help_text="Coins you funded still in members' hands at the base "
        "date's end (Japan): available, pending or held."
    )
    issued = FigureOutput(help_text="Coins issued in the half-year.")
    cancelled = FigureOutput(help_text="Coins taken back in it (refunds, reversed earnings).")
    used = FigureOutput(help_text="Coins spent in it (redeemed or captured, net of reversals).")
    expired = FigureOutput(help_text="Coins that expired in it.")
    threshold_yen = _yen("The Act's threshold (基準額): 10,000,000 yen.")
    excess_yen = _yen("How far the unused balance exceeds it (0 when it does not).")
    report_required = serializers.BooleanField(
        help_text="True when the unused balance exceeds the threshold."
    )
    deposit_yen = _yen(
        "The deposit the Act asks for (要供託額): half the unused balance, rounded up to the "
        "yen, once it exceeds the threshold; 0 otherwise."
    )


def report_view(report: DepositReport) -> dict[str, Any]:
    def figure(value: Figure) -> dict[str, Any]:
        return {"coins": value.coins, "yen": value.yen}

    return {
        "issuer": report.issuer.slug,
        "base_date": report.base_date,
        "period_start": report.period_start,
        "unused": figure(report.unused),
        "issued": figure(report.issued),
        "cancelled": figure(report.cancelled),
        "used": figure(report.used),
        "expired": figure(report.expired),
        "threshold_yen": report.threshold_yen,
        "excess_yen": report.excess_yen,
        "report_required": report.report_required,
        "deposit_yen": report.deposit_yen,
    }


def base_date_from(raw: str | None) -> date:
    """The base date asked for (the latest ended one when none is): a 31 March or 30
    September whose day is over in Japan; ``validation_failed`` on ``base_date`` otherwise."""
    if raw is None:
        return latest_base_date()
    try:
        day = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise validation_failed("base_date", _("Give the base date as YYYY-MM-DD."))
    if not is_base_date(day):
        raise validation_failed("base_date", _("A base date is 31 March or 30 September."))
    if day < FIRST_BASE_DATE:
        raise validation_failed("base_date", _("The Act's first base date is 30 September 2010."))
    if not is_reportable(day):
        raise validation_failed("base_date", _("This base date has not ended yet."))
    return day


class CoinDepositReportApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "base_date",
                date,
                pattern=r"^[1-9][0-9]{3}-(03-31|09-30)$",
                description="31 March or 30 September (YYYY-MM-DD), from 2010-09-30 (the "
                "Act's first) to the latest that has ended in Japan, which is the default.",
            )
        ],
        responses=DepositReportOutput,
        operation_id="coins_deposit_report",
        summary="Your Payment Services Act report at a base date",
        description="The coins your company funded that were unused at the end of a base date "
        "(Asia/Tokyo), in coins and yen, with what was issued, taken back, spent and expired "
        "in the half-year ending there, and the deposit the Payment Services Act asks for "
        "(half the unused balance once it exceeds 10,000,000 yen), from the ledger alone. "
        "Your own figures only. 400 `validation_failed` (field `base_date`) for a date that "
        "is malformed, not a base date, or not yet over.",
    )
    @raises(ErrorCode.VALIDATION_FAILED)
    def get(self, request: Request) -> Response:
        day = base_date_from(request.query_params.get("base_date"))
        return Response(DepositReportOutput(report_view(deposit_report(self.partner, day))).data)
