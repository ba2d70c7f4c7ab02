"""The coin services against a model small enough to be obviously right: random sequences of
earn, release, redeem, hold, capture, void, refund, reverse and expire (hypothesis, stateful),
each accepted or refused exactly as the model says, with the books balanced after every step:
every account equals its entries, all accounts sum to zero, no member account is negative,
and each issuer's unspent coins are what the model says they are."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from federation.coins.models import CoinAccount, CoinHold, CoinLot, CoinTransaction
from federation.coins.selectors import balance_of, ledger_total, ledger_verify, liability_of
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
)
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import Person
from tests.factories import make_partner

Kind = CoinAccount.Kind
SYSTEM = Actor.system()
_run = itertools.count()


@dataclass
class ModelLot:
    issuer: int
    amount: int
    remaining: int
    issued: int  # step number: FIFO order
    pending_until: int | None  # day
    expires: int | None  # day
    earned: CoinTransaction
    refunded: int = 0
    reversed: bool = False


@dataclass
class ModelHold:
    person: int
    coins: int
    taken: list[tuple[ModelLot, int]]
    hold: CoinHold
    open: bool = True


@dataclass
class World:
    day: int = 0
    lots: dict[int, list[ModelLot]] = field(default_factory=dict)
    holds: list[ModelHold] = field(default_factory=list)
    redemptions: list[tuple[int, CoinTransaction, list[tuple[ModelLot, int]]]] = field(
        default_factory=list
    )


def _outcome(call: Any) -> tuple[Any, str | None]:
    """What a service answered: its result, or the code it refused with."""
    try:
        return call(), None
    except ApplicationError as refused:
        return None, str(refused.code)


class CoinMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each example starts from the books as they were: batch runs (release, expiry) see
        # every lot in the database, so an earlier example's lots must be gone.
        self.savepoint = transaction.atomic()
        self.savepoint.__enter__()
        run = next(_run)
        self.start = datetime(2026, 1, 1, tzinfo=timezone.get_current_timezone())
        self.issuers = [make_partner(f"model-{run}-{n}") for n in range(2)]
        self.people = [Person.objects.create() for _ in range(2)]
        self.world = World(lots={n: [] for n in range(2)})
        self.step = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.savepoint.__exit__(None, None, None)

    def now(self) -> datetime:
        return self.start + timedelta(days=self.world.day, seconds=self.step)

    def spendable(self, p: int) -> list[ModelLot]:
        day = self.world.day
        lots = [
            lot
            for lot in self.world.lots[p]
            if lot.remaining > 0
            and (lot.pending_until is None or lot.pending_until <= -1)
            and (lot.expires is None or lot.expires > day)
        ]
        return sorted(lots, key=lambda lot: lot.issued)

    def take(self, p: int, coins: int) -> list[tuple[ModelLot, int]]:
        taken: list[tuple[ModelLot, int]] = []
        for lot in self.spendable(p):
            n = min(lot.remaining, coins - sum(c for _l, c in taken))
            if n:
                lot.remaining -= n
                taken.append((lot, n))
        return taken

    def wallet(self, p: int) -> int:
        return sum(lot.remaining for lot in self.world.lots[p] if lot.pending_until in (None, -1))

    # --- rules ----------------------------------------------------------------------------

    @rule(
        p=st.integers(0, 1),
        i=st.integers(0, 1),
        coins=st.integers(1, 50),
        pending=st.booleans(),
        life=st.one_of(st.none(), st.integers(1, 5)),
    )
    def earn(self, p: int, i: int, coins: int, pending: bool, life: int | None) -> None:
        self.step += 1
        day = self.world.day
        until = day + 2 if pending else None
        earned = coins_earn(
            Grant(
                self.people[p],
                self.issuers[i],
                coins,
                Decimal("1.5"),
                pending_until=self.start + timedelta(days=until) if until is not None else None,
                expires_at=self.start + timedelta(days=day + life) if life else None,
            ),
            actor=SYSTEM,
            now=self.now(),
        )
        lot = ModelLot(i, coins, coins, self.step, until, day + life if life else None, earned)
        self.world.lots[p].append(lot)

    @rule(days=st.integers(1, 3))
    def time_passes(self, days: int) -> None:
        self.world.day += days
        released = coins_release_due(now=self.now())
        expected = 0
        for lots in self.world.lots.values():
            for lot in lots:
                if lot.pending_until not in (None, -1) and lot.pending_until <= self.world.day:
                    if lot.remaining > 0:
                        expected += 1
                    lot.pending_until = -1
        assert released == expected

    @rule(p=st.integers(0, 1), coins=st.integers(1, 80), at=st.integers(0, 1))
    def redeem(self, p: int, coins: int, at: int) -> None:
        self.step += 1
        available = sum(lot.remaining for lot in self.spendable(p))
        spent, refused = _outcome(
            lambda: coins_redeem(
                self.people[p], self.issuers[at], coins, actor=SYSTEM, now=self.now()
            )
        )
        assert refused == (None if coins <= available else "insufficient_coins")
        if refused:
            return
        self.world.redemptions.append((p, spent, self.take(p, coins)))

    @rule(p=st.integers(0, 1), coins=st.integers(1, 60))
    def hold(self, p: int, coins: int) -> None:
        self.step += 1
        available = sum(lot.remaining for lot in self.spendable(p))
        held, refused = _outcome(
            lambda: hold_authorise(
                self.people[p],
                self.issuers[1],
                coins,
                actor=SYSTEM,
                now=self.now(),
                timeout=timedelta(days=30),
            )
        )
        assert refused == (None if coins <= available else "insufficient_coins")
        if refused:
            return
        self.world.holds.append(ModelHold(p, coins, self.take(p, coins), held))

    @precondition(lambda self: any(h.open for h in self.world.holds))
    @rule(data=st.data(), part=st.floats(0.1, 1.0), capture=st.booleans())
    def resolve(self, data: Any, part: float, capture: bool) -> None:
        self.step += 1
        hold = data.draw(st.sampled_from([h for h in self.world.holds if h.open]))
        hold.open = False
        if capture:
            coins = max(1, int(hold.coins * part))
            hold_capture(hold.hold, coins, actor=SYSTEM, now=self.now())
            self._give_back(hold.taken, hold.coins - coins)
        else:
            hold_void(hold.hold, actor=SYSTEM, now=self.now())
            self._give_back(hold.taken, hold.coins)

    @staticmethod
    def _give_back(taken: list[tuple[ModelLot, int]], coins: int) -> None:
        for lot, n in sorted(taken, key=lambda t: t[0].issued, reverse=True):
            back = min(n, coins)
            lot.remaining += back
            coins -= back

    @precondition(lambda self: any(self.world.lots.values()))
    @rule(data=st.data(), coins=st.integers(1, 60))
    def refund(self, data: Any, coins: int) -> None:
        self.step += 1
        lot = data.draw(st.sampled_from([lot for lots in self.world.lots.values() for lot in lots]))
        refundable = 0 if lot.reversed else lot.amount - lot.refunded
        clawback, refused = _outcome(lambda: coins_refund(lot.earned, coins, actor=SYSTEM))
        assert refused == (None if coins <= refundable else "nothing_to_refund")
        if refused:
            return
        assert clawback.recovered == min(coins, lot.remaining)
        lot.refunded += coins
        lot.remaining -= clawback.recovered

    @precondition(lambda self: self.world.redemptions or any(self.world.lots.values()))
    @rule(data=st.data(), earned=st.booleans())
    def reverse(self, data: Any, earned: bool) -> None:
        self.step += 1
        if earned and any(self.world.lots.values()):
            lot = data.draw(
                st.sampled_from([lot for lots in self.world.lots.values() for lot in lots])
            )
            ok = not lot.reversed and lot.remaining == lot.amount
            _reversal, refused = _outcome(lambda: coins_reverse(lot.earned, actor=SYSTEM))
            assert refused == (None if ok else "not_reversible")
            if refused:
                return
            lot.reversed, lot.remaining = True, 0
        elif self.world.redemptions:
            _p, spent, taken = self.world.redemptions.pop(
                data.draw(st.integers(0, len(self.world.redemptions) - 1))
            )
            coins_reverse(spent, actor=SYSTEM)
            self._give_back(taken, sum(n for _l, n in taken))

    @rule()
    def expire(self) -> None:
        expected = 0
        for lots in self.world.lots.values():
            for lot in lots:
                if (
                    lot.expires is not None
                    and lot.expires <= self.world.day
                    and lot.remaining > 0
                    and lot.pending_until in (None, -1)
                ):
                    expected += lot.remaining
                    lot.remaining = 0
        assert coins_expire_due(now=self.now()) == expected

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def books_balance(self) -> None:
        assert ledger_total() == 0
        assert ledger_verify() is None
        assert not CoinAccount.objects.filter(
            kind__in=CoinAccount.NEVER_NEGATIVE, balance__lt=0
        ).exists()

    @invariant()
    def balances_match_the_model(self) -> None:
        for p, person in enumerate(self.people):
            held = sum(h.coins for h in self.world.holds if h.open and h.person == p)
            pending = sum(
                lot.remaining for lot in self.world.lots[p] if lot.pending_until not in (None, -1)
            )
            assert balance_of(person) == self.wallet(p)
            assert balance_of(person, Kind.HOLD) == held
            assert balance_of(person, Kind.PENDING) == pending

    @invariant()
    def issuers_unspent_coins_are_their_lots(self) -> None:
        for i, issuer in enumerate(self.issuers):
            model = sum(
                lot.remaining
                for lots in self.world.lots.values()
                for lot in lots
                if lot.issuer == i
            )
            stored = CoinLot.objects.filter(issuer=issuer).aggregate(n=Sum("remaining"))["n"]
            assert (stored or 0) == model
            held = sum(
                n
                for hold in self.world.holds
                if hold.open
                for lot, n in hold.taken
                if lot.issuer == i
            )
            liability = liability_of(issuer)
            assert liability.unspent == model + held
            assert liability.redeemed >= 0
            assert liability.issued == liability.unspent + liability.redeemed + liability.expired


CoinMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.django_db
def test_the_coin_services_agree_with_the_model() -> None:
    CoinMachine.TestCase().runTest()
