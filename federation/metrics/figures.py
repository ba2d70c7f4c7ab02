"""Reading the daily figures: a company's own, and the alliance's totals, by day, week
(from Monday) or month, from the rollup alone (on the read replica when there is one:
``partners.db``).

Counts of members (active, dormant) are stocks: a week or month shows its last day's value.
Everything else is a flow: a week or month shows the sum of its days. In the alliance's
totals, counts of people or their acts below the smallest cell the alliance shows
(``SANPO_OVERLAP_MIN_CELL_FLOOR``) are withheld (``None``), as the overlap counts are."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Sum

from federation.metrics.models import DailyFigure, Metric
from partners.db import replica_alias
from partners.models import Partner

STOCKS = {Metric.MEMBERS_ACTIVE, Metric.MEMBERS_DORMANT}
PEOPLE = STOCKS | {
    Metric.REACTIVATED,
    Metric.REACTIVATED_HELD_OUT,
    Metric.REACTIVATED_BOUGHT,
    Metric.REFERRAL_CLICKS,
    Metric.REFERRAL_CONVERSIONS,
    Metric.ENROLLMENTS,
    Metric.CAMPAIGN_DRAWN,
    Metric.CAMPAIGN_SHIPPED,
    Metric.CAMPAIGN_ANSWERS,
}
GRAINS = ("day", "week", "month")


def periods(first: date, last: date, grain: str) -> list[date]:
    """Every period from the one ``first`` falls in to the one ``last`` falls in."""
    found: list[date] = []
    day = first
    while day <= last:
        period = period_of(day, grain)
        if not found or found[-1] != period:
            found.append(period)
        day += timedelta(days=1)
    return found


def period_of(day: date, grain: str) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


@dataclass(frozen=True)
class Series:
    metric: str
    counterparty: str | None
    points: list[tuple[date, int | None]]


def _series(rows: list[tuple[str, str | None, date, int]], grain: str) -> list[Series]:
    """Group ``(metric, counterparty, day, value)`` rows, ordered by day, into periods."""
    grouped: dict[tuple[str, str | None], dict[date, int]] = defaultdict(dict)
    for metric, counterparty, day, value in rows:
        points = grouped[(metric, counterparty)]
        period = period_of(day, grain)
        points[period] = value if metric in STOCKS else points.get(period, 0) + value
    return [
        Series(metric, counterparty, sorted(points.items()))
        for (metric, counterparty), points in sorted(
            grouped.items(), key=lambda item: (item[0][0], item[0][1] or "")
        )
    ]


def company_figures(company: Partner, first: date, last: date, grain: str) -> list[Series]:
    rows = (
        DailyFigure.objects.using(replica_alias())
        .filter(company=company, day__gte=first, day__lte=last)
        .order_by("day")
        .values_list("metric", "counterparty__slug", "day", "value")
    )
    return _series(list(rows), grain)


def alliance_figures(first: date, last: date, grain: str, *, withhold: bool = True) -> list[Series]:
    """Every company's figures added up; small counts of people withheld unless the reader
    is an alliance manager (``withhold=False``)."""
    rows = (
        DailyFigure.objects.using(replica_alias())
        .filter(day__gte=first, day__lte=last)
        .values("metric", "day")
        .annotate(total=Sum("value"))
        .order_by("day")
        .values_list("metric", "day", "total")
    )
    floor = settings.SANPO_OVERLAP_MIN_CELL_FLOOR if withhold else 0
    series = _series([(metric, None, day, total) for metric, day, total in rows], grain)
    return [
        Series(
            s.metric,
            None,
            [
                (period, None if s.metric in PEOPLE and (value or 0) < floor else value)
                for period, value in s.points
            ],
        )
        for s in series
    ]
