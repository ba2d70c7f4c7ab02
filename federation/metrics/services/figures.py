"""The daily figures of each company, rebuilt set-based: for a range of days, one
``INSERT ... SELECT`` per metric grouped in the database (members active and dormant take one
per day, each over the activity rollup's window), never a row loaded into Python.

Members are active on a day when they did something with the company in the
``SANPO_METRICS_DORMANT_DAYS`` days ending with it, and dormant when they had before but not
in those days. Coins spent are the lots' lineage of redemptions and holds at the company (net
of voids and reversals), by issuer; coins expired, by issuer."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from federation.campaigns.models import CampaignMember, SurveyAnswer
from federation.coins.models import CoinLot, CoinLotUse, CoinReactivation, CoinTransaction
from federation.enrollment.models import Enrollment
from federation.metrics.days import day_bounds
from federation.metrics.models import ActivityDay, DailyFigure, Metric
from federation.referrals.models import ReferralClick, ReferralConversion
from partners.models import Partner

Tx = CoinTransaction.Kind
SPENDING = [Tx.REDEEM, Tx.HOLD, Tx.VOID, Tx.REVERSAL]
COLUMNS = "day, metric, company_id, counterparty_id, value"
BOUGHT_WITHIN = timedelta(days=30)


def dormant_days() -> int:
    return int(getattr(settings, "SANPO_METRICS_DORMANT_DAYS", 90))


def _insert(metric: str, rows: QuerySet[Any]) -> int:
    """Insert ``rows`` (annotated ``d``, ``c``, ``v`` and, for figures between two
    companies, ``cp``) as ``metric``'s figures."""
    paired = "cp" in rows.query.annotations
    names = ("d", "c", "cp", "v") if paired else ("d", "c", "v")
    select, params = rows.values(*names).order_by().query.sql_with_params()
    sql = (
        f"INSERT INTO {DailyFigure._meta.db_table} ({COLUMNS}) "  # noqa: S608
        f"SELECT s.d, %s, s.c, {'s.cp' if paired else 'NULL'}, s.v FROM ({select}) s "
        "WHERE s.v <> 0"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [metric, *params])
        written: int = cursor.rowcount
    return written


def _day_of(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=timezone.get_current_timezone())


def _timed(metric: str, rows: QuerySet[Any], at: str, first: date, last: date) -> int:
    since, until = day_bounds(first, last)
    rows = rows.filter(**{f"{at}__gte": since, f"{at}__lt": until})
    return _insert(metric, rows.annotate(d=_day_of(at)))


# Members active and dormant on every day of a range, in one pass over the activity rollup:
# a day of activity makes its member active for the next N days (from the day itself), so each
# row adds +1 where its days start to count beyond the member's previous activity and -1 N days
# after it; a running sum over the days gives the distinct members active, and the running
# count of first days the members known. The range's days are seeded with zeros for every
# company, so each day appears. Rows with a zero are left out, as ``_insert`` does.
_MEMBERS_SQL = """
WITH acts AS (
    SELECT company_id, day, lag(day) OVER (PARTITION BY company_id, person_id ORDER BY day) AS prev
      FROM {activity} WHERE day <= %(last)s
), deltas AS (
    SELECT company_id, GREATEST(day, prev + %(n)s) AS at, 1 AS active,
           CASE WHEN prev IS NULL THEN 1 ELSE 0 END AS known
      FROM acts WHERE GREATEST(day, prev + %(n)s) <= %(last)s
     UNION ALL
    SELECT company_id, day + %(n)s, -1, 0 FROM acts WHERE day + %(n)s <= %(last)s
     UNION ALL
    SELECT p.id, d::date, 0, 0
      FROM {partner} AS p CROSS JOIN generate_series(%(first)s::date, %(last)s::date, '1 day') AS d
), running AS (
    SELECT company_id, at, SUM(SUM(active)) OVER w AS active, SUM(SUM(known)) OVER w AS known
      FROM deltas GROUP BY company_id, at
    WINDOW w AS (PARTITION BY company_id ORDER BY at)
)
INSERT INTO {figure} ({columns})
SELECT at, %(active)s, company_id, NULL::uuid, active FROM running
 WHERE at >= %(first)s AND active <> 0
 UNION ALL
SELECT at, %(dormant)s, company_id, NULL::uuid, known - active FROM running
 WHERE at >= %(first)s AND known - active <> 0
"""


def _members_range(first: date, last: date) -> int:
    """Members active and dormant on each day from ``first`` to ``last``: one statement on
    PostgreSQL (``_MEMBERS_SQL``), a grouped query per day elsewhere."""
    if connection.vendor != "postgresql":
        counted, day = 0, first
        while day <= last:
            counted += _members(day)
            day += timedelta(days=1)
        return counted
    sql = _MEMBERS_SQL.format(
        activity=ActivityDay._meta.db_table,
        partner=Partner._meta.db_table,
        figure=DailyFigure._meta.db_table,
        columns=COLUMNS,
    )
    params: dict[str, Any] = {
        "first": first,
        "last": last,
        "n": dormant_days(),
        "active": Metric.MEMBERS_ACTIVE.value,
        "dormant": Metric.MEMBERS_DORMANT.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        written: int = cursor.rowcount
    return written


def _members(day: date) -> int:
    window = day - timedelta(days=dormant_days() - 1)
    known = ActivityDay.objects.filter(day__lte=day).values("company")
    known = known.annotate(
        d=Value(day),
        c=F("company_id"),
        active=Count("person", distinct=True, filter=Q(day__gte=window)),
        everyone=Count("person", distinct=True),
    )
    written = _insert(Metric.MEMBERS_ACTIVE, known.annotate(v=F("active")))
    return written + _insert(Metric.MEMBERS_DORMANT, known.annotate(v=F("everyone") - F("active")))


def _events(first: date, last: date) -> int:
    written = 0
    for metric, held in ((Metric.REACTIVATED, False), (Metric.REACTIVATED_HELD_OUT, True)):
        rows = CoinReactivation.objects.filter(held_out=held).values("company")
        rows = rows.annotate(c=F("company_id"), v=Count("id"))
        written += _timed(metric, rows, "reactivated_at", first, last)
    issued = CoinLot.objects.values("issuer").annotate(c=F("issuer_id"), v=Sum("amount"))
    written += _timed(Metric.COINS_ISSUED, issued, "issued_at", first, last)
    uses = CoinLotUse.objects.values("transaction__partner", "issuer")
    spent = uses.filter(transaction__kind__in=SPENDING).annotate(
        c=F("transaction__partner_id"), cp=F("issuer_id"), v=Sum("coins")
    )
    written += _timed(Metric.COINS_SPENT, spent, "transaction__posted_at", first, last)
    expired = (
        CoinLotUse.objects.filter(transaction__kind=Tx.EXPIRE)
        .values("issuer")
        .annotate(c=F("issuer_id"), v=Sum("coins"))
    )
    written += _timed(Metric.COINS_EXPIRED, expired, "transaction__posted_at", first, last)
    return written + _referrals_and_enrollments(first, last)


def _referrals_and_enrollments(first: date, last: date) -> int:
    pair = {"c": F("offer__source_id"), "cp": F("offer__destination_id")}
    clicks = ReferralClick.objects.values("offer__source", "offer__destination")
    written = _timed(
        Metric.REFERRAL_CLICKS, clicks.annotate(**pair, v=Count("id")), "at", first, last
    )
    counted = ReferralConversion.objects.exclude(
        state__in=[ReferralConversion.State.REJECTED, ReferralConversion.State.FLAGGED]
    ).values("offer__source", "offer__destination")
    written += _timed(
        Metric.REFERRAL_CONVERSIONS,
        counted.annotate(**pair, v=Count("id")),
        "recorded_at",
        first,
        last,
    )
    enrolled = (
        Enrollment.objects.filter(status=Enrollment.Status.CONFIRMED)
        .values("source", "target")
        .annotate(c=F("source_id"), cp=F("target_id"), v=Count("id"))
    )
    written += _timed(Metric.ENROLLMENTS, enrolled, "confirmed_at", first, last)
    return written + _campaigns(first, last)


def _campaigns(first: date, last: date) -> int:
    """Members drawn, put in a shipment list and answering, per partner and host: the
    campaign funnel's steps on the days they happened."""
    pair = {"c": F("campaign__partner_id"), "cp": F("campaign__host_id")}
    members = CampaignMember.objects.values("campaign__partner", "campaign__host")
    written = _timed(
        Metric.CAMPAIGN_DRAWN, members.annotate(**pair, v=Count("id")), "selected_at", first, last
    )
    shipped = members.filter(exported_at__isnull=False).annotate(**pair, v=Count("id"))
    written += _timed(Metric.CAMPAIGN_SHIPPED, shipped, "exported_at", first, last)
    answers = SurveyAnswer.objects.values("campaign__partner", "campaign__host")
    return written + _timed(
        Metric.CAMPAIGN_ANSWERS, answers.annotate(**pair, v=Count("id")), "answered_at", first, last
    )


def _bought_after(first: date, last: date) -> int:
    """Members reactivated on each day who bought from the company within ``BOUGHT_WITHIN``
    days (from the activity rollup): a purchase on a later day changes the figure of the day
    of the reactivation, so the days since ``BOUGHT_WITHIN`` before ``first`` are rebuilt too."""
    since = first - BOUGHT_WITHIN
    DailyFigure.objects.filter(
        metric=Metric.REACTIVATED_BOUGHT, day__gte=since, day__lte=last
    ).delete()
    on = _day_of("reactivated_at")
    bought = ActivityDay.objects.filter(
        company=OuterRef("company"),
        person=OuterRef("person"),
        purchases__gt=0,
        day__gte=OuterRef("on"),
        day__lte=OuterRef("until"),
    )
    rows = (
        CoinReactivation.objects.annotate(
            on=on, until=ExpressionWrapper(on + BOUGHT_WITHIN, output_field=DateField())
        )
        .filter(Exists(bought))
        .values("company")
        .annotate(c=F("company_id"), v=Count("id"))
    )
    return _timed(Metric.REACTIVATED_BOUGHT, rows, "reactivated_at", since, last)


def refresh_figures(first: date, last: date) -> int:
    """Rebuild every figure of the days ``first`` to ``last``, inside the caller's
    transaction (``metrics_refresh_days``, after the activity rollup of the same days)."""
    DailyFigure.objects.filter(day__gte=first, day__lte=last).delete()
    return _events(first, last) + _bought_after(first, last) + _members_range(first, last)
