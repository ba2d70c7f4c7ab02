"""The alliance managers' metrics dashboard: the figures of a company, or of the whole
alliance, over a period, drawn as charts (``partners.charts``: server-rendered SVG, with the
numbers in a table under each), and the measured lift of a company's reactivation bonus and of
its latest sampling campaigns, with their intervals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Q, Sum
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from federation.campaigns.models import Campaign
from federation.campaigns.services.selection import campaign_key
from federation.holdouts.selectors import holdout_named
from federation.metrics.figures import Series as Figures
from federation.metrics.figures import alliance_figures, company_figures, periods
from federation.metrics.models import DailyFigure, Metric
from federation.metrics.selectors import campaign_lift, reactivation_lift
from partners.charts import Chart, Series, line_chart, stacked_bar_chart
from partners.charts.base import coordinate, text
from partners.db import replica_alias
from partners.models import Partner

WIDTH, HEIGHT, MARGIN = 640.0, 64.0, 24.0
CAMPAIGNS = 5  # the latest campaigns whose lift the dashboard shows


@dataclass(frozen=True)
class Board:
    charts: list[tuple[str, Chart]]
    flows: list[tuple[str, str, int]]  # issuer, company where spent, coins
    lift: dict[str, Any] | None
    intervals: list[tuple[str, SafeString, dict[str, float]]]
    campaigns: list[CampaignLift]


@dataclass(frozen=True)
class CampaignLift:
    """A campaign's lift over the dashboard's period, with its purchase rate drawn."""

    name: str
    figures: dict[str, Any]
    purchase: SafeString | None  # None when the groups are too small to say anything


def _values(figures: list[Figures], metric: str, labels: list[date]) -> list[int]:
    """The metric's values per period (summed over counterparties), 0 where there are none."""
    found: dict[date, int] = {}
    for one in figures:
        if one.metric == metric:
            for period, value in one.points:
                found[period] = found.get(period, 0) + (value or 0)
    return [found.get(period, 0) for period in labels]


def _label(period: date, grain: str) -> str:
    return f"{period:%Y-%m}" if grain == "month" else period.isoformat()


def board(company: Partner | None, first: date, last: date, grain: str) -> Board:
    figures = (
        company_figures(company, first, last, grain)
        if company is not None
        else alliance_figures(first, last, grain, withhold=False)
    )
    when = periods(first, last, grain)
    labels = [_label(period, grain) for period in when]

    def series(*metrics: Metric) -> list[Series]:
        return [Series(str(metric.label), _values(figures, metric, when)) for metric in metrics]

    head = _("period")
    charts = [
        (
            "members",
            line_chart(
                title=_("Active and dormant members"),
                labels=labels,
                series=series(Metric.MEMBERS_ACTIVE, Metric.MEMBERS_DORMANT),
                label_header=head,
            ),
        ),
        (
            "reactivated",
            line_chart(
                title=_("Dormant members reactivated, and who bought afterwards"),
                labels=labels,
                series=series(
                    Metric.REACTIVATED, Metric.REACTIVATED_HELD_OUT, Metric.REACTIVATED_BOUGHT
                ),
                label_header=head,
            ),
        ),
        (
            "coins",
            line_chart(
                title=_("Coins issued, spent and expired"),
                labels=labels,
                series=series(Metric.COINS_ISSUED, Metric.COINS_SPENT, Metric.COINS_EXPIRED),
                label_header=head,
            ),
        ),
        (
            "referrals",
            line_chart(
                title=_("Referral clicks and conversions"),
                labels=labels,
                series=series(Metric.REFERRAL_CLICKS, Metric.REFERRAL_CONVERSIONS),
                label_header=head,
            ),
        ),
        (
            "campaigns",
            line_chart(
                title=_("Sampling campaigns: drawn, shipped, answered"),
                labels=labels,
                series=series(
                    Metric.CAMPAIGN_DRAWN, Metric.CAMPAIGN_SHIPPED, Metric.CAMPAIGN_ANSWERS
                ),
                label_header=head,
            ),
        ),
        (
            "enrollments",
            stacked_bar_chart(
                title=_("Members enrolled with another company"),
                labels=labels,
                series=series(Metric.ENROLLMENTS),
                label_header=head,
            ),
        ),
    ]
    lift = _lift(company, first, last)
    return Board(
        charts,
        _flows(company, first, last),
        lift,
        _intervals(lift),
        _campaign_lifts(company, first, last),
    )


def _flows(company: Partner | None, first: date, last: date) -> list[tuple[str, str, int]]:
    """Coins spent over the period, per issuer and company where spent, largest first."""
    rows = DailyFigure.objects.using(replica_alias()).filter(
        metric=Metric.COINS_SPENT, day__gte=first, day__lte=last, counterparty__isnull=False
    )
    if company is not None:
        rows = rows.filter(Q(company=company) | Q(counterparty=company))
    totals = (
        rows.values("counterparty__slug", "company__slug")
        .annotate(coins=Sum("value"))
        .order_by("-coins", "counterparty__slug", "company__slug")
    )
    return [(row["counterparty__slug"], row["company__slug"], row["coins"]) for row in totals]


def _lift(company: Partner | None, first: date, last: date) -> dict[str, Any] | None:
    if company is None:
        return None
    holdout = holdout_named(f"reactivation:{company.slug}")
    if holdout is None:
        return None
    return reactivation_lift(
        company,
        holdout,
        start=first,
        end=last,
        dormant_days=settings.SANPO_METRICS_DORMANT_DAYS,
        using=replica_alias(),
    )


def _campaign_lifts(company: Partner | None, first: date, last: date) -> list[CampaignLift]:
    """The lift of the company's latest campaigns that drew, one grouped query each."""
    if company is None:
        return []
    lifts = []
    drawn = Campaign.objects.filter(partner=company, selected__gt=0).order_by("-created_at")
    for campaign in drawn[:CAMPAIGNS]:
        holdout = holdout_named(campaign_key(campaign))
        if holdout is None:
            continue
        figures = campaign_lift(campaign, holdout, start=first, end=last, using=replica_alias())
        name = campaign.name_ja if get_language() == "ja" else campaign.name_en
        title = _("Purchase rate")
        purchase = None if figures["too_small"] else figures["lift"]["purchase_rate"]
        svg = interval_svg(title, purchase) if purchase is not None else None
        lifts.append(CampaignLift(name, figures, svg))
    return lifts


def _intervals(lift: dict[str, Any] | None) -> list[tuple[str, SafeString, dict[str, float]]]:
    if lift is None or "lift" not in lift:
        return []
    names = {
        "reactivation_rate": _("Reactivation rate"),
        "purchase_rate": _("Purchase rate"),
        "yen_per_member": _("Yen per member"),
        "coins_earned_per_member": _("Coins earned per member"),
        "coins_redeemed_per_member": _("Coins redeemed per member"),
    }
    return [
        (names[key], interval_svg(names[key], lift["lift"][key]), lift["lift"][key])
        for key in names
    ]


def interval_svg(title: str, interval: dict[str, float]) -> SafeString:
    """The difference as a dot on its 95% interval, with zero marked: an interval clear of
    the zero line is an effect."""
    low, high, point = interval["low"], interval["high"], interval["difference"]
    span = max(abs(low), abs(high), 1e-9) * 1.1

    def x(value: float) -> float:
        return MARGIN + (value + span) / (2 * span) * (WIDTH - 2 * MARGIN)

    body = format_html(
        "<line class='zero' x1='{z}' y1='8' x2='{z}' y2='{b}' stroke='currentColor' "
        "stroke-dasharray='3 3'/>"
        "<line class='interval' x1='{l}' y1='28' x2='{h}' y2='28' stroke='#0072b2' "
        "stroke-width='4'/><circle class='estimate' cx='{p}' cy='28' r='6' fill='#d55e00'/>"
        "{tl}{th}",
        z=coordinate(x(0)),
        b=coordinate(HEIGHT - 8),
        l=coordinate(x(low)),
        h=coordinate(x(high)),
        p=coordinate(x(point)),
        tl=text(x(low), 52, f"{low:g}", anchor="middle"),
        th=text(x(high), 52, f"{high:g}", anchor="middle"),
    )
    return format_html(
        "<svg xmlns='http://www.w3.org/2000/svg' class='sanpo-chart-svg lift-interval' "
        "role='img' viewBox='0 0 {w} {h}' width='{w}' height='{h}' "
        "preserveAspectRatio='xMinYMin meet' font-family='sans-serif' font-size='12'>"
        "<title>{t}</title>{body}</svg>",
        w=coordinate(WIDTH),
        h=coordinate(HEIGHT),
        t=title,
        body=body,
    )
