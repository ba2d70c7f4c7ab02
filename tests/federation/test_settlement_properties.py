"""Settlement against an independent recomputation, over random ledgers (hypothesis): the
lines equal what the raw ledger rows say (summed here, row by row, in Python), every kind's
whole-yen parts sum to its rounded total and stay within a yen of their exact values, net
positions sum to zero, statements verify, and a locked period reruns byte for byte. Also two
computations of one period at once (PostgreSQL): they take turns and leave one result."""

from __future__ import annotations

import importlib
import threading
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from federation.coins.models import CoinClawback, CoinLotUse, CoinTransaction
from federation.coins.services import (
    coins_expire_due,
    coins_refund,
    hold_authorise,
    hold_capture,
)
from federation.settlement.models import SettlementLine, SettlementPeriod
from federation.settlement.rounding import split_largest_remainder
from federation.settlement.services import (
    period_compute,
    period_lock,
    period_rerun,
    period_review_open,
    statement_verify,
)
from federation.settlement.tasks import compute_settlement_period
from partners.errors import ApplicationError
from partners.models import AuditEvent, Person
from tests.federation.settlement_world import (
    SYSTEM,
    Alliance,
    earn,
    ledger_clock,
    make_alliance,
    redeem,
    tokyo,
)

Tx = CoinTransaction.Kind
RATES = ["1", "0.5", "1.2345", "0.3333", "1.002", "0.0001"]
MAY = (date(2026, 5, 1), date(2026, 5, 31))

earning = st.tuples(
    st.just("earn"),
    st.integers(0, 2),
    st.integers(0, 2),
    st.integers(1, 500),
    st.sampled_from(RATES),
)
spending = st.one_of(
    st.tuples(st.just("redeem"), st.integers(0, 2), st.integers(0, 2), st.integers(1, 400)),
    st.tuples(
        st.just("hold"),
        st.integers(0, 2),
        st.integers(0, 2),
        st.integers(1, 300),
        st.integers(0, 300),
    ),
    st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 300)),
)
# Earnings first (so there is something to spend), then anything, earnings included.
ledgers = st.tuples(
    st.lists(earning, min_size=3, max_size=8),
    st.lists(st.one_of(spending, spending, earning), min_size=3, max_size=16),
).map(lambda parts: parts[0] + parts[1])


# --- Property tests on the split alone --------------------------------------------------------


@given(
    st.lists(
        st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False),
        min_size=1,
        max_size=30,
    ),
    st.text(min_size=1, max_size=8),
)
def test_split_parts_sum_to_the_rounded_total_within_a_yen_each(
    exact: list[Decimal], salt: str
) -> None:
    total = sum(exact, Decimal(0)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    parts = split_largest_remainder(
        exact, total=total, salt=salt, keys=[str(i) for i in range(len(exact))]
    )
    assert sum(parts) == total
    assert all(abs(part - value) < 1 for part, value in zip(parts, exact, strict=True))
    assert all(part == part.to_integral_value() for part in parts)


def test_equal_remainders_do_not_favour_the_same_pair_every_period() -> None:
    exact = [Decimal("0.5"), Decimal("0.5")]
    winners = {
        tuple(split_largest_remainder(exact, total=Decimal(1), salt=f"p{i}", keys=["ab", "ba"]))
        for i in range(20)
    }
    assert winners == {(Decimal(1), Decimal(0)), (Decimal(0), Decimal(1))}


# --- Against an independent recomputation ----------------------------------------------------


def _play(alliance: Alliance, operations: list[Any]) -> None:
    companies = [alliance.host, alliance.a, alliance.b]
    people = [Person.objects.create() for _ in range(3)]
    earned: list[Any] = []
    for step, op in enumerate(operations):
        at = tokyo(date(2026, 5, 1) + timedelta(days=step % 28), 1 + step % 20)
        try:
            with transaction.atomic():
                if op[0] == "earn":
                    expiry = at + timedelta(days=3) if step % 4 == 0 else None
                    earned.append(
                        earn(people[op[1]], companies[op[2]], op[3], op[4], at, expires_at=expiry)
                    )
                elif op[0] == "redeem":
                    redeem(people[op[1]], companies[op[2]], op[3], at)
                elif op[0] == "hold":
                    with ledger_clock(at):
                        hold = hold_authorise(
                            people[op[1]], companies[op[2]], op[3], actor=SYSTEM, now=at
                        )
                        hold_capture(hold, max(1, min(op[3], op[4])), actor=SYSTEM, now=at)
                elif earned:
                    with ledger_clock(at):
                        coins_refund(earned[op[1] % len(earned)], op[2], actor=SYSTEM)
        except ApplicationError:
            pass  # not enough coins, nothing left to refund: refused whole
    end = tokyo(date(2026, 5, 30))
    with ledger_clock(end):
        coins_expire_due(now=end)


def _independently(period: SettlementPeriod) -> dict[tuple[str, Any, Any], Decimal]:
    """The exact amounts, read row by row from the raw ledger: a different route from the
    GROUP BY queries the service runs."""
    totals: dict[tuple[str, Any, Any], Decimal] = defaultdict(Decimal)
    inside = (period.starts_at, period.ends_at)
    for use in CoinLotUse.objects.select_related("transaction__reverses"):
        tx = use.transaction
        if not inside[0] <= tx.posted_at < inside[1]:
            continue
        spent = tx.kind in (Tx.REDEEM, Tx.HOLD, Tx.VOID) or (
            tx.reverses is not None and tx.reverses.kind == Tx.REDEEM
        )
        if spent and tx.partner_id != use.issuer_id:
            totals[("redemption", use.issuer_id, tx.partner_id)] += use.yen_value
        elif tx.kind == Tx.EXPIRE:
            totals[("breakage", None, use.issuer_id)] += use.yen_value
    for clawback in CoinClawback.objects.filter(shortfall__gt=0):
        if inside[0] <= clawback.recorded_at < inside[1]:
            totals[("clawback_shortfall", clawback.issuer_id, None)] += clawback.shortfall_yen
    return {key: value for key, value in totals.items() if value}


def _check(period: SettlementPeriod) -> None:
    lines = list(period.lines.exclude(kind=SettlementLine.Kind.ROUNDING))
    found = {(line.kind, line.debtor_id, line.creditor_id): line.exact_yen for line in lines}
    assert found == _independently(period)
    for kind in {line.kind for line in lines}:
        mine = [line for line in lines if line.kind == kind]
        exact = sum((line.exact_yen for line in mine), Decimal(0))
        assert sum(line.amount_yen for line in mine) == exact.quantize(Decimal(1), ROUND_HALF_EVEN)
        assert all(abs(line.amount_yen - line.exact_yen) < 1 for line in mine)
        rounding = period.lines.filter(kind="rounding", note=f"rounding of {kind}")
        residue = sum((r.exact_yen for r in rounding), Decimal(0))
        assert exact + residue == sum(line.amount_yen for line in mine)
    assert sum(s.net_yen for s in period.statements.all()) == 0
    assert all(statement_verify(s) for s in period.statements.all())


@pytest.mark.django_db
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ledgers)
def test_settlement_equals_an_independent_recomputation(operations: list[Any]) -> None:
    with transaction.atomic():
        alliance = make_alliance()
        _play(alliance, operations)
        period = period_compute(alliance.period(*MAY), actor=SYSTEM)
        _check(period)
        period_review_open(period, actor=SYSTEM, now=tokyo(date(2026, 6, 1), 0))
        period_lock(period, actor=SYSTEM)
        assert period_rerun(period) == []
        transaction.set_rollback(True)


# --- Two computations at once --------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_two_computations_of_one_period_take_turns_and_leave_one_result() -> None:
    importlib.import_module("consent.migrations.0002_seed_purposes").seed(apps, None)
    alliance = make_alliance()
    _play(
        alliance,
        [
            ("earn", 0, 1, 300, "1.2345"),
            ("redeem", 0, 2, 250),
            ("earn", 1, 0, 90, "0.5"),
            ("redeem", 1, 1, 90),
        ],
    )
    period = alliance.period(*MAY)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            compute_settlement_period(str(period.pk))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert AuditEvent.objects.filter(action="settlement.computed").count() == 2  # both ran
    assert period.lines.filter(kind="redemption").count() == 2
    assert period.statements.count() == 3
    _check(period)
