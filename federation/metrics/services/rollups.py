"""The daily rollup of members' activity, refreshed set-based: whole days are deleted and
rebuilt by one ``INSERT ... SELECT`` grouped from the ledger, so a refresh can run again at any
time (or on two workers at once: the days are locked by the rollup's state row) and always
leaves the same rows.

Activity with a company is a posting the company made on a person's coins: a purchase, an
action, a redemption or a captured hold (not a bonus, a release or an expiry, which the member
did not do). Days are Japan's."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, DecimalField, F, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from federation.coins.models import CoinAccount, CoinEntry, CoinTransaction
from federation.metrics.days import day_bounds
from federation.metrics.models import ACTIVITY, ActivityDay, RollupState
from federation.metrics.services.figures import refresh_figures

Tx = CoinTransaction.Kind
DOING = [Tx.EARN_PURCHASE, Tx.EARN_ACTION, Tx.REDEEM, Tx.CAPTURE]
PERSONAL = [CoinAccount.Kind.WALLET, CoinAccount.Kind.PENDING, CoinAccount.Kind.HOLD]
COLUMNS = [
    "company_id",
    "person_id",
    "day",
    "purchases",
    "yen",
    "actions",
    "coins_earned",
    "coins_redeemed",
]


def _activity_rows(first: date, last: date) -> tuple[str, tuple[Any, ...]]:
    """The SELECT of ``COLUMNS`` for the days ``first`` to ``last``, grouped in the database."""
    since, until = day_bounds(first, last)
    tx = "transaction__"
    earned = Q(**{f"{tx}kind__in": [Tx.EARN_PURCHASE, Tx.EARN_ACTION]}, amount__gt=0)
    bought = Q(**{f"{tx}kind": Tx.EARN_PURCHASE}, amount__gt=0)
    spent = Q(**{f"{tx}kind__in": [Tx.REDEEM, Tx.CAPTURE]}, amount__lt=0)
    yen = Cast(
        KeyTextTransform("amount_yen", f"{tx}reason"), DecimalField(max_digits=14, decimal_places=2)
    )
    # The entry's own posted_at (its transaction's), so PostgreSQL reads only the days'
    # partitions of the entries.
    rows = (
        CoinEntry.objects.filter(
            **{f"{tx}kind__in": DOING, f"{tx}partner__isnull": False},
            posted_at__gte=since,
            posted_at__lt=until,
            account__kind__in=PERSONAL,
        )
        .annotate(
            company=F(f"{tx}partner_id"),
            who=F("account__person_id"),
            on=TruncDate("posted_at", tzinfo=timezone.get_current_timezone()),
        )
        .values("company", "who", "on")
        .annotate(
            purchases=Count(f"{tx}id", filter=bought, distinct=True),
            yen=Coalesce(
                Sum(yen, filter=bought),
                0,
                output_field=DecimalField(max_digits=14, decimal_places=2),
            ),
            actions=Count(f"{tx}id", filter=Q(**{f"{tx}kind": Tx.EARN_ACTION}), distinct=True),
            earned=Coalesce(Sum("amount", filter=earned), 0),
            spent=Coalesce(-Sum("amount", filter=spent), 0),
        )
        .order_by()
    )
    return rows.query.sql_with_params()


def metrics_refresh_days(first: date, last: date) -> int:
    """Rebuild the activity rollup and the daily figures (``figures``) for the days ``first``
    to ``last``; the number of rows written."""
    select, params = _activity_rows(first, last)
    table = ActivityDay._meta.db_table
    with transaction.atomic():
        state, _ = RollupState.objects.get_or_create(name=ACTIVITY)
        RollupState.objects.select_for_update().get(pk=state.pk)  # one refresh at a time
        ActivityDay.objects.filter(day__gte=first, day__lte=last).delete()
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({', '.join(COLUMNS)}) {select}", params)
            written: int = cursor.rowcount
        written += refresh_figures(first, last)
        _advance(state, first, last)
    return written


def _advance(state: RollupState, first: date, last: date) -> None:
    """Move the rollup's "complete through" to ``last`` (at most yesterday) when the refresh
    joined on to the days already complete, or covered every posting from the first."""
    complete = min(last, timezone.localdate() - timedelta(days=1))
    if state.through is None:
        joined = not CoinTransaction.objects.filter(
            posted_at__lt=day_bounds(first, first)[0]
        ).exists()
    else:
        joined = first <= state.through + timedelta(days=1)
    if joined and (state.through is None or complete > state.through):
        RollupState.objects.filter(pk=state.pk).update(
            through=complete, refreshed_at=timezone.now()
        )


def metrics_refresh_recent() -> int:
    """The beat task's refresh: yesterday and today (yesterday's last postings land after
    midnight), or everything since the first posting when the rollup has never run."""
    today = timezone.localdate()
    state = RollupState.objects.filter(name=ACTIVITY).first()
    if state is None or state.through is None:
        first_posting = CoinTransaction.objects.order_by("posted_at").first()
        if first_posting is None:
            return 0
        first = timezone.localdate(first_posting.posted_at)
    else:
        first = min(state.through + timedelta(days=1), today - timedelta(days=1))
    return metrics_refresh_days(first, today)
