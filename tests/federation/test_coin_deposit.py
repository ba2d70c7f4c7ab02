"""The Payment Services Act report, from the ledger alone: a hand-computed scenario over two
half-years (earned, spent, held across a base date, refunded, reversed, expired), the base
date's boundary to the microsecond, the 10,000,000 yen threshold and the deposit's rounding."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from federation.coins.models import CoinTransaction
from federation.coins.reports import (
    DepositReport,
    Figure,
    deposit_report,
    deposit_reports,
    latest_base_date,
)
from federation.coins.services import (
    Grant,
    coins_earn,
    coins_expire_due,
    coins_redeem,
    coins_refund,
    coins_reverse,
    hold_authorise,
    hold_capture,
)
from partners.actors import Actor
from partners.models import Partner, Person

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
TOKYO = ZoneInfo("Asia/Tokyo")
FIRST, SECOND = date(2025, 9, 30), date(2026, 3, 31)
MONTH = timedelta(days=30)


def tokyo(year: int, month: int, day: int, *clock: int) -> datetime:
    hour, minute, second, micro = (*clock, 0, 0, 0, 0)[:4]
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=TOKYO)


# The ledger's clock: a posting is stamped when it is written (rows that may not be edited
# afterwards), so the scenario sets the clock each posting reads, and hands the services that
# take one the same ``now``.
POSTED_AT = CoinTransaction._meta.get_field("posted_at")


@contextmanager
def at(when: datetime) -> Iterator[datetime]:
    with mock.patch.object(POSTED_AT, "_get_default", return_value=when):
        yield when


def earn(
    person: Person, issuer: Partner, coins: int, yen: str, now: datetime, **kw: Any
) -> CoinTransaction:
    grant = Grant(person, issuer, coins, Decimal(yen), reason={"order_id": f"{coins}@{yen}"}, **kw)
    with at(now):
        return coins_earn(grant, actor=SYSTEM, now=now)


def figures(report: DepositReport) -> dict[str, tuple[int, Decimal]]:
    names = ("unused", "issued", "cancelled", "used", "expired")
    return {name: (getattr(report, name).coins, getattr(report, name).yen) for name in names}


@pytest.fixture
def ledger(host: Partner, partner: Partner) -> Person:
    """The scenario, lot by lot (L1..L5, all funded by the host; the partner funds one lot):

    first half-year (to 30 Sep 2025): L1 1000 @ 1.5, L2 500 @ 0.3333, L3 200 @ 2 (pending,
    issued one microsecond before the base date ends); 300 redeemed (L1); 100 held (L1) at
    20:00 on the base date and captured (60) on 2 Oct.
    second (to 31 Mar 2026): L4 50 @ 1 issued at 00:00 on 1 Oct exactly; L2 refunded 200; L1's
    640 left expire; 100 redeemed (L2) and the redemption reversed; L5 10 @ 1 earned and
    reversed; 20 held (L2) at 23:00 on the base date, still open; 5 redeemed at 00:00 on
    1 April, after the base date."""
    person = Person.objects.create()
    earn(person, host, 1000, "1.5", tokyo(2025, 5, 1), expires_at=tokyo(2025, 11, 30))
    earn(person, partner, 1000, "1", tokyo(2025, 5, 1))
    l2 = earn(person, host, 500, "0.3333", tokyo(2025, 6, 1))
    last = tokyo(2025, 9, 30, 23, 59, 59, 999999)
    earn(person, host, 200, "2", last, pending_until=tokyo(2025, 10, 30))
    with at(tokyo(2025, 7, 1)) as now:
        coins_redeem(person, partner, 300, actor=SYSTEM, now=now)
    with at(tokyo(2025, 9, 30, 20)) as now:
        hold = hold_authorise(person, partner, 100, actor=SYSTEM, now=now, timeout=MONTH)
    with at(tokyo(2025, 10, 2)) as now:
        hold_capture(hold, 60, actor=SYSTEM, now=now)
    earn(person, host, 50, "1", tokyo(2025, 10, 1))
    with at(tokyo(2025, 11, 1)):
        coins_refund(l2, 200, actor=SYSTEM)
    with at(tokyo(2025, 12, 1)) as now:
        assert coins_expire_due(now=now) == 640
    with at(tokyo(2026, 1, 5)) as now:
        spent = coins_redeem(person, partner, 100, actor=SYSTEM, now=now)
    with at(tokyo(2026, 1, 10)):
        coins_reverse(spent, actor=SYSTEM)
    l5 = earn(person, host, 10, "1", tokyo(2026, 2, 1))
    with at(tokyo(2026, 2, 2)):
        coins_reverse(l5, actor=SYSTEM)
    with at(tokyo(2026, 3, 31, 23)) as now:
        hold_authorise(person, partner, 20, actor=SYSTEM, now=now, timeout=MONTH)
    with at(tokyo(2026, 4, 1)) as now:
        coins_redeem(person, partner, 5, actor=SYSTEM, now=now)
    return person


def test_the_first_base_date_counts_the_open_hold_and_the_pending_lot_as_unused(
    ledger: Person, host: Partner
) -> None:
    report = deposit_report(host, FIRST)

    assert figures(report) == {
        # 1700 issued (1500 + 166.65 + 400 yen) less 300 redeemed (450 yen): 1616.65
        "unused": (1400, Decimal("1616")),
        "issued": (1700, Decimal("2066")),
        "cancelled": (0, Decimal("0")),
        "used": (300, Decimal("450")),
        "expired": (0, Decimal("0")),
    }
    assert report.unused.exact_yen == Decimal("1616.65")
    assert report.period_start == date(2025, 4, 1)
    assert (report.report_required, report.excess_yen, report.deposit_yen) == (False, 0, 0)


def test_the_second_base_date_follows_every_movement_of_its_half_year(
    ledger: Person, host: Partner
) -> None:
    report = deposit_report(host, SECOND)

    assert figures(report) == {
        # L2 300 @ 0.3333 (the 20 held included) + L3 200 @ 2 + L4 50 @ 1: 549.99 yen
        "unused": (550, Decimal("549")),
        "issued": (60, Decimal("60")),  # L4 (at the half-year's first moment) and L5
        "cancelled": (210, Decimal("76")),  # L2's refund (66.66) and L5's reversal (10)
        "used": (60, Decimal("90")),  # the capture; the reversed redemption nets to zero
        "expired": (640, Decimal("960")),
    }
    assert report.unused.exact_yen == Decimal("549.99")
    assert report.period_start == date(2025, 10, 1)
    first = deposit_report(host, FIRST)
    moved = report.issued.coins - report.cancelled.coins - report.used.coins
    assert first.unused.coins + moved - report.expired.coins == report.unused.coins


def test_each_issuer_has_its_own_report_and_the_list_has_every_issuer(
    ledger: Person, host: Partner, partner: Partner, django_assert_num_queries: Any
) -> None:
    assert figures(deposit_report(partner, SECOND))["unused"] == (1000, Decimal("1000"))
    with django_assert_num_queries(3):
        reports = deposit_reports(SECOND)
    assert [(r.issuer.slug, r.unused.coins) for r in reports] == [
        ("brand-co", 1000),
        ("host-co", 550),
    ]
    assert deposit_reports(date(2024, 9, 30)) == []


def _report_with(host: Partner, *lots: tuple[int, str]) -> DepositReport:
    person = Person.objects.create()
    for coins, yen in lots:
        earn(person, host, coins, yen, tokyo(2026, 3, 1))
    return deposit_report(host, SECOND)


def test_exactly_the_threshold_asks_for_nothing(host: Partner) -> None:
    # 10,000,000.9 yen exactly: rounded down, it does not exceed 10,000,000.
    report = _report_with(host, (10_000, "1000"), (9, "0.1"))

    assert report.unused.exact_yen == Decimal("10000000.9")
    assert (report.unused.yen, report.report_required) == (Decimal("10000000"), False)
    assert (report.excess_yen, report.deposit_yen) == (Decimal(0), Decimal(0))


def test_above_the_threshold_half_the_whole_balance_is_deposited_rounded_up(
    host: Partner,
) -> None:
    report = _report_with(host, (10_000, "1000.0001"))  # 10,000,001 yen

    assert (report.unused.yen, report.report_required) == (Decimal("10000001"), True)
    assert report.threshold_yen == Decimal("10000000")
    assert report.excess_yen == Decimal("1")
    assert report.deposit_yen == Decimal("5000001")  # half of 10,000,001, rounded up


def test_a_large_balance_is_exact(host: Partner) -> None:
    report = _report_with(host, (3_000_000, "123.4567"), (1, "0.0001"))

    assert report.unused.exact_yen == Decimal("370370100.0001")
    assert report.deposit_yen == Decimal("185185050")
    assert report.excess_yen == Decimal("360370100")


def test_the_latest_base_date_is_the_latest_that_has_ended_in_japan() -> None:
    assert latest_base_date(tokyo(2026, 3, 31, 23, 59)) == date(2025, 9, 30)
    assert latest_base_date(tokyo(2026, 4, 1)) == date(2026, 3, 31)
    assert latest_base_date(tokyo(2026, 9, 30, 12)) == date(2026, 3, 31)
    assert latest_base_date(tokyo(2026, 10, 1)) == date(2026, 9, 30)
    assert latest_base_date(tokyo(2027, 1, 15)) == date(2026, 9, 30)


def test_a_figure_values_each_lot_at_its_own_rate() -> None:
    figure = Figure()
    figure.add(3, Decimal("0.3333"))
    figure.add(-1, Decimal("2"))
    assert (figure.coins, figure.exact_yen, figure.yen) == (2, Decimal("-1.0001"), Decimal("-2"))
