"""A company's own figures over time, with the alliance's totals, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from federation.kernel.api import READ, FederationEndpoint
from federation.metrics.days import parse_day
from federation.metrics.figures import GRAINS, Series, alliance_figures, company_figures
from federation.metrics.models import Metric
from partners.admin.export import BOM, cell
from partners.api.schema import raises
from partners.errors import ErrorCode, validation_failed

MAX_DAYS = 366
PARAMETERS = [
    OpenApiParameter(
        "from", date, description="The first day, 2000 to 2999 (default: 30 days ago)."
    ),
    OpenApiParameter("to", date, description="The last day, 2000 to 2999 (default: today)."),
    OpenApiParameter("grain", str, enum=list(GRAINS), description="day (default), week, month."),
]
DESCRIPTION = (
    "Your company's figures per day, week (from Monday) or month in Japan, from the daily "
    "rollup (refreshed every 20 minutes): members active and dormant (a stock: a week or "
    "month shows its last day), reactivated members and those held out, coins issued, spent "
    "(by issuer: `counterparty`), expired, referral clicks and conversions you sent "
    "(`counterparty`: the destination), members enrolled with others, and your sampling "
    "campaigns' members drawn, shipped and answering (`counterparty`: the host). The "
    "alliance's totals "
    "come with them, counts of people below the alliance's smallest cell withheld (null). "
    f"At most {MAX_DAYS} days; 400 `validation_failed` for malformed or reversed dates, a "
    "period too long or an unknown grain."
)


class PointOutput(serializers.Serializer):
    period = serializers.DateField(help_text="The day, the week's Monday or the month's 1st.")
    value = serializers.IntegerField(allow_null=True)


class SeriesOutput(serializers.Serializer):
    metric = serializers.ChoiceField(choices=Metric.choices)
    counterparty = serializers.CharField(allow_null=True)
    points = PointOutput(many=True)


class FiguresOutput(serializers.Serializer):
    company = serializers.CharField()
    grain = serializers.ChoiceField(choices=GRAINS)
    start = serializers.DateField()
    end = serializers.DateField()
    series = SeriesOutput(many=True)
    alliance = SeriesOutput(many=True)


def _day(raw: str | None, name: str, default: date) -> date:
    if raw is None:
        return default
    day = parse_day(raw)
    if day is None:
        raise validation_failed(name, _("A date, YYYY-MM-DD, from 2000 to 2999."))
    return day


def asked(request: Request) -> tuple[date, date, str]:
    params = request.query_params
    last = _day(params.get("to"), "to", timezone.localdate())
    first = _day(params.get("from"), "from", last - timedelta(days=29))
    if not timedelta(0) <= last - first < timedelta(days=MAX_DAYS):
        raise validation_failed(
            "from", _("From on or before to, at most %(days)s days.") % {"days": MAX_DAYS}
        )
    grain = params.get("grain", "day")
    if grain not in GRAINS:
        raise validation_failed("grain", _("One of day, week or month."))
    return first, last, grain


def _view(series: list[Series]) -> list[dict[str, Any]]:
    return [
        {
            "metric": s.metric,
            "counterparty": s.counterparty,
            "points": [{"period": period, "value": value} for period, value in s.points],
        }
        for s in series
    ]


class MetricsFiguresApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        parameters=PARAMETERS,
        responses=FiguresOutput,
        operation_id="metrics_figures",
        summary="Your figures over time, with the alliance's",
        description=DESCRIPTION,
    )
    @raises(ErrorCode.VALIDATION_FAILED)
    def get(self, request: Request) -> Response:
        first, last, grain = asked(request)
        body = {
            "company": self.partner.slug,
            "grain": grain,
            "start": first,
            "end": last,
            "series": _view(company_figures(self.partner, first, last, grain)),
            "alliance": _view(alliance_figures(first, last, grain)),
        }
        return Response(FiguresOutput(body).data)


class MetricsFiguresCsvApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        parameters=PARAMETERS,
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)},
        operation_id="metrics_figures_csv",
        summary="Your figures over time, with the alliance's, as CSV",
        description=f"{DESCRIPTION} UTF-8 CSV with a byte-order mark, one row per scope, "
        "metric, counterparty and period.",
    )
    @raises(ErrorCode.VALIDATION_FAILED)
    def get(self, request: Request) -> HttpResponse:
        first, last, grain = asked(request)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["scope", "metric", "counterparty", "period", "value"])
        for scope, series in (
            (self.partner.slug, company_figures(self.partner, first, last, grain)),
            ("alliance", alliance_figures(first, last, grain)),
        ):
            for s in series:
                for period, value in s.points:
                    writer.writerow(
                        [
                            scope,
                            s.metric,
                            cell(s.counterparty or ""),
                            period,
                            "" if value is None else value,
                        ]
                    )
        response = HttpResponse(BOM + out.getvalue(), content_type="text/csv; charset=utf-8")
        name = f"sanpo-metrics-{self.partner.slug}-{first:%Y%m%d}-{last:%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
