"""Coins earned, released, spent, held, refunded, reversed and expired: the lots and their
lineage follow every posting, and the books always balance."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from federation.coins.models import CoinAccount, CoinHold, CoinLot, CoinLotUse, CoinTransaction
from federation.coins.selectors import balance_of, ledger_total, ledger_verify
from federation.coins.services import (
    Grant,
    coins_earn,
    coins_expire_due,
    coins_redeem,
    coins_refund,
    coins_release_due,
    coins_reverse,
    hold_authorise,
    hold_capture,
    hold_void,
    holds_expire_due,
)
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import AuditEvent, Partner, Person
from tests.factories import make_partner

Kind = CoinAccount.Kind
SYSTEM = Actor.system()
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def issuers(db: Any) -> tuple[Partner, Partner]:
    return make_partner("coin-a"), make_partner("coin-b")


@pytest.fixture
def person(db: Any) -> Person:
    return Person.objects.create()


def _earn(
    person: Person, issuer: Partner, coins: int, *, days_ago: int = 0, yen: str = "1", **kw: Any
) -> CoinTransaction:
    return coins_earn(
        Grant(person, issuer, coins, Decimal(yen), reason={"order_id": f"o{coins}"}, **kw),
        actor=SYSTEM,
        now=NOW - timedelta(days=days_ago),
    )


def _held_by_issuer(posted: CoinTransaction) -> dict[str, int]:
    return {
        issuer: coins
        for issuer, coins in CoinLotUse.objects.filter(transaction=posted).values_list(
            "issuer__slug", "coins"
        )
    }


def _books_hold() -> None:
    assert ledger_total() == 0
    assert ledger_verify() is None


def test_a_redemption_spends_the_oldest_lots_first_and_says_whose_coins_they_were(
    issuers: tuple[Partner, Partner], person: Person
) -> None:
    a, b = issuers
    shop = make_partner("coin-shop")
    _earn(person, a, 30, days_ago=10, yen="1.5")
    _earn(person, b, 50, days_ago=5)
    _earn(person, a, 20, days_ago=1)

    spent = coins_redeem(person, shop, 60, actor=SYSTEM, now=NOW)

    assert _held_by_issuer(spent) == {"coin-a": 30, "coin-b": 30}
    yen = CoinLotUse.objects.filter(transaction=spent).order_by("lot__issued_at")
    assert [use.yen_value for use in yen] == [Decimal("45"), Decimal("30")]
    assert list(CoinLot.objects.order_by("issued_at").values_list("remaining", flat=True)) == [
        0,
        20,
        20,
    ]
    assert balance_of(person) == 40
    assert AuditEvent.objects.filter(action="coins.redeemed", partner=shop).count() == 1
    _books_hold()


def test_a_redemption_beyond_the_balance_is_refused_whole(
    issuers: tuple[Partner, Partner], person: Person
) -> None:
    _earn(person, issuers[0], 10)
    with pytest.raises(ApplicationError) as refused:
        coins_redeem(person, issuers[1], 11, actor=SYSTEM, now=NOW)
    assert refused.value.code == "insufficient_coins"
    assert CoinLot.objects.get().remaining == 10
    assert not CoinTransaction.objects.filter(kind="redeem").exists()


def test_expired_lots_cannot_be_spent_even_before_the_expiry_run(
    issuers: tuple[Partner, Partner], person: Person
) -> None:
    _earn(person, issuers[0], 10, expires_at=NOW - timedelta(days=1))
    with pytest.raises(ApplicationError) as refused:
        coins_redeem(person, issuers[1], 5, actor=SYSTEM, now=NOW)
    assert refused.value.code == "insufficient_coins"
    assert balance_of(person) == 10  # until the expiry run takes them


def test_pending_coins_show_as_pending_cannot_be_spent_and_are_released_once(
    issuers: tuple[Partner, Partner], person: Person
) -> None:
    _earn(person, issuers[0], 40, pending_until=NOW + timedelta(days=14))
    assert (balance_of(person), balance_of(person, Kind.PENDING)) == (0, 40)
    with pytest.raises(ApplicationError):
        coins_redeem(person, issuers[1], 1, actor=SYSTEM, now=NOW)

    assert coins_release_due(now=NOW + timedelta(days=13)) == 0
    assert coins_release_due(now=NOW + timedelta(days=14)) == 1
    assert coins_release_due(now=NOW + timedelta(days=15)) == 0  # twice changes nothing
    assert (balance_of(person), balance_of(person, Kind.PENDING)) == (40, 0)
    coins_redeem(person, issuers[1], 40, actor=SYSTEM, now=NOW + timedelta(days=15))
    _books_hold()


def test_a_refund_inside_the_window_cancels_pending_coins_without_a_clawback(
    issuers: tuple[Partner, Partner], person: Person
) -> None:
    earned = _earn(person, issuers[0], 40, pending_until=NOW + timedelta(days=14))
    clawback = coins_refund(earned, 40, actor=SYSTEM)
    assert (clawback.recovered, clawback.shortfall) == (40, 0)
    assert balance_of(person, Kind.PENDING) == 0
    assert coins_release_due(now=NOW + timedelta(days=20)) == 0
    _books_hold()


def test_a_refund_takes_back_what_is_left_and_records_the_spent_rest_for_settlement(
    issuers: tuple[Partner, Partner], person: Person
) -> None:
    a, b = issuers
    earned = _earn(person, a, 100, yen="2")
    coins_redeem(person, b, 70, actor=SYSTEM, now=NOW)

    clawback = coins_refund(earned, 80, actor=SYSTEM, reason={"refund_id": "r-1"})

    assert (clawback.requested, clawback.recovered, clawback.shortfall) == (80, 30, 50)
    assert clawback.shortfall_yen == Decimal("100")
    assert balance_of(person) == 0  # down to zero, never below
    with pytest.raises(ApplicationError) as refused:  # only 20 of the 100 are left to refund
        coins_refund(earned, 21, actor=SYSTEM)
    assert refused.value.code == "nothing_to_refund"
    _books_hold()


def test_a_hold_reserves_coins_then_a_partial_capture_spends_part_and_gives_back_the_rest(
    issuers: tuple[Partner, Partner], person: Person
) -> None:
    a, b = issuers
    _earn(person, a, 100, days_ago=3)
    hold = hold_authorise(person, b, 60, actor=SYSTEM, now=NOW)
    assert (balance_of(person), balance_of(person, Kind.HOLD)) == (40, 60)

    hold = hold_capture(hold, 45, actor=SYSTEM, now=NOW + timedelta(minutes=1))

    assert (hold.state, hold.captured) == (CoinHold.State.CAPTURED, 45)
    assert (balance_of(person), balance_of(person, Kind.HOLD)) == (55, 0)
    assert CoinLot.objects.get().remaining == 55
    for resolve in (hold_capture, hold_void):
        with pytest.raises(ApplicationError) as refused:
            resolve(hold, actor=SYSTEM, now=NOW + timedelta(minutes=2))
        assert refused.value.code == "hold_resolved"
    _books_hold()


def test_an_uncaptured_hold_expires_by_itself_and_cannot_be_captured_after(
    issuers: tuple[Partner, Partner], person: Person
) -> None:
    _earn(person, issuers[0], 30)
    hold = hold_authorise(person, issuers[1], 30, actor=SYSTEM, now=NOW)
    later = NOW + timedelta(hours=1)
    with pytest.raises(ApplicationError) as refused:
        hold_capture(hold, actor=SYSTEM, now=later)
    assert refused.value.code == "hold_resolved"

    assert holds_expire_due(now=later) == 1
    assert holds_expire_due(now=later) == 0
    hold.refresh_from_db()
    assert hold.state == CoinHold.State.EXPIRED
    assert balance_of(person) == 30
    _books_hold()


def test_a_voided_hold_gives_every_coin_back_to_its_lot(
    issuers: tuple[Partner, Partner], person: Person
) -> None:
    _earn(person, issuers[0], 10, days_ago=2)
    _earn(person, issuers[1], 10, days_ago=1)
    hold = hold_authorise(person, issuers[1], 15, actor=SYSTEM, now=NOW)
    hold_void(hold, actor=SYSTEM, now=NOW)
    assert list(CoinLot.objects.order_by("issued_at").values_list("remaining", flat=True)) == [
        10,
        10,
    ]
    assert balance_of(person) == 20
    _books_hold()


def test_expiry_moves_coins_to_the_issuers_breakage_once(
    issuers: tuple[Partner, Partner], person: Person
) -> None:
    a, b = issuers
    _earn(person, a, 25, expires_at=NOW - timedelta(days=1))
    _earn(person, b, 5, expires_at=NOW + timedelta(days=30))
    assert coins_expire_due(now=NOW) == 25
    assert coins_expire_due(now=NOW) == 0
    assert balance_of(person) == 5
    breakage = CoinAccount.objects.filter(kind=Kind.BREAKAGE).values_list(
        "partner__slug", "balance"
    )
    assert list(breakage) == [("coin-a", 25)]
    _books_hold()


def test_reversals_follow_the_lots(issuers: tuple[Partner, Partner], person: Person) -> None:
    a, b = issuers
    earned = _earn(person, a, 50)
    spent = coins_redeem(person, b, 20, actor=SYSTEM, now=NOW)
    with pytest.raises(ApplicationError) as refused:  # partly spent: a refund corrects it
        coins_reverse(earned, actor=SYSTEM)
    assert refused.value.code == "not_reversible"

    coins_reverse(spent, actor=SYSTEM, reason={"why": "till error"})
    assert CoinLot.objects.get().remaining == 50
    reversal = coins_reverse(earned, actor=SYSTEM)
    assert reversal.reverses_id == earned.pk
    assert balance_of(person) == 0
    with pytest.raises(ApplicationError) as refused:
        coins_reverse(reversal, actor=SYSTEM)
    assert refused.value.code == "not_reversible"
    with pytest.raises(ApplicationError) as refused:
        coins_reverse(spent, actor=SYSTEM)
    assert refused.value.code == "already_reversed"
    _books_hold()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_capture_racing_a_void_resolves_the_hold_once() -> None:
    a, b = make_partner("coin-a"), make_partner("coin-b")
    person = Person.objects.create()
    coins_earn(Grant(person, a, 100, Decimal(1)), actor=SYSTEM)
    for _round in range(5):
        hold = hold_authorise(person, b, 10, actor=SYSTEM)
        start = threading.Barrier(2)

        def resolve(how: Any, hold: CoinHold = hold, start: threading.Barrier = start) -> str:
            try:
                start.wait(timeout=30)
                how(hold, actor=SYSTEM)
                return "done"
            except ApplicationError as refused:
                return str(refused.code)
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = list(pool.map(resolve, [hold_capture, hold_void]))
        assert sorted(outcomes) == ["done", "hold_resolved"]
    assert balance_of(person) + 10 * CoinHold.objects.filter(state="captured").count() == 100
    _books_hold()


@pytest.mark.parametrize(
    ("batch", "lot"),
    [
        (coins_expire_due, {"expires_at": NOW - timedelta(days=1)}),
        (coins_release_due, {"pending_until": NOW - timedelta(days=1)}),
    ],
)
def test_a_batch_costs_the_same_queries_for_five_members_or_thirty(
    issuers: tuple[Partner, Partner], batch: Any, lot: dict[str, Any]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(members: int) -> int:
        for _ in range(members):
            _earn(Person.objects.create(), issuers[0], 5, days_ago=40, **lot)
        with CaptureQueriesContext(connection) as ran:
            assert batch(now=NOW) > 0
        return len(ran)

    assert queries_for(5) == queries_for(30)
