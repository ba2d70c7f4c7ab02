"""The coin ledger's own rules: balanced transactions, append-only entries, balances and
versions that equal their entries, no member account below zero under any concurrency, and
reversals that apply once. The database rules are tested with raw SQL and with the ORM, on
PostgreSQL (which enforces them itself); the service rules on every database."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from federation.coins.models import CoinAccount, CoinEntry, CoinTransaction
from federation.coins.selectors import balance_of, ledger_total, ledger_verify, outstanding_of
from federation.coins.services import Leg, account_for, company_account, liability_account, post
from federation.coins.services import reverse as reverse_transaction
from partners.errors import ApplicationError
from partners.models import Partner, Person
from tests.factories import make_partner

Kind = CoinAccount.Kind
Tx = CoinTransaction.Kind


def _wallet(person: Person) -> CoinAccount:
    return account_for(Kind.WALLET, person=person)


def _earn(person: Person, issuer: Partner, coins: int) -> CoinTransaction:
    return post(
        Tx.EARN_PURCHASE,
        [Leg(_wallet(person), coins), Leg(liability_account(issuer, person), -coins)],
        partner=issuer,
        reason={"order_id": f"o-{uuid.uuid4().hex[:8]}"},
    )


def _redeem(person: Person, at: Partner, coins: int) -> CoinTransaction:
    return post(
        Tx.REDEEM,
        [Leg(_wallet(person), -coins), Leg(company_account(Kind.REDEMPTION, at, person), coins)],
        partner=at,
    )


@pytest.fixture
def issuer(db: Any) -> Partner:
    return make_partner("coin-issuer")


@pytest.fixture
def person(db: Any) -> Person:
    return Person.objects.create()


def test_a_posting_moves_balances_and_versions_and_records_them_on_each_entry(
    issuer: Partner, person: Person
) -> None:
    _earn(person, issuer, 120)
    _redeem(person, issuer, 20)

    wallet = _wallet(person)
    assert (wallet.balance, wallet.version) == (100, 2)
    assert list(
        wallet.entries.order_by("account_version").values_list(
            "amount", "balance_after", "account_version"
        )
    ) == [(120, 120, 1), (-20, 100, 2)]
    assert balance_of(person) == 100
    assert outstanding_of(issuer) == 120
    assert ledger_total() == 0
    assert ledger_verify() is None


@pytest.mark.parametrize("amounts", [[5, -4], [5], [0, 0], [True, -1]])
def test_unbalanced_or_malformed_legs_are_refused_and_nothing_is_written(
    issuer: Partner, person: Person, amounts: list[int]
) -> None:
    accounts = [_wallet(person), liability_account(issuer, person)]
    with pytest.raises(ApplicationError) as refused:
        post(Tx.TRANSFER, [Leg(a, n) for a, n in zip(accounts, amounts, strict=False)])
    assert refused.value.code == "unbalanced_transaction"
    assert not CoinTransaction.objects.exists()
    assert not CoinEntry.objects.exists()


def test_a_wallet_cannot_go_below_zero(issuer: Partner, person: Person) -> None:
    _earn(person, issuer, 10)
    with pytest.raises(ApplicationError) as refused:
        _redeem(person, issuer, 11)
    assert refused.value.code == "insufficient_coins"
    assert refused.value.extra == {"available": 10, "requested": 11}
    assert balance_of(person) == 10
    assert CoinTransaction.objects.count() == 1


def test_a_reversal_mirrors_the_original_once_and_cannot_itself_be_reversed(
    issuer: Partner, person: Person
) -> None:
    original = _earn(person, issuer, 50)
    reversal = reverse_transaction(original, reason={"why": "posted in error"})
    assert reversal.reverses_id == original.pk
    assert balance_of(person) == 0
    assert outstanding_of(issuer) == 0
    for again in (original, reversal):
        with pytest.raises(ApplicationError) as refused:
            reverse_transaction(again)
        assert refused.value.code == "already_reversed"
    assert ledger_verify() is None


def test_a_reversal_that_would_take_a_wallet_below_zero_is_refused(
    issuer: Partner, person: Person
) -> None:
    original = _earn(person, issuer, 50)
    _redeem(person, issuer, 30)
    with pytest.raises(ApplicationError) as refused:
        reverse_transaction(original)
    assert refused.value.code == "insufficient_coins"
    assert not original.reversals.exists()


def test_an_issuers_liability_is_spread_over_shards_but_one_member_always_uses_one(
    issuer: Partner,
) -> None:
    people = [Person.objects.create() for _ in range(40)]
    for someone in people:
        _earn(someone, issuer, 3)
        _earn(someone, issuer, 2)
    shards = CoinAccount.objects.filter(kind=Kind.LIABILITY, partner=issuer)
    assert shards.count() > 4
    assert all(
        entry.account_id == liability_account(issuer, someone).pk
        for someone in people[:5]
        for entry in CoinEntry.objects.filter(
            transaction__entries__account=_wallet(someone), account__kind=Kind.LIABILITY
        )
    )
    assert outstanding_of(issuer) == 200


def test_the_verification_command_reports_the_first_mismatch(
    issuer: Partner, person: Person
) -> None:
    _earn(person, issuer, 7)
    call_command("verify_coin_ledger")  # the books hold
    CoinAccount.objects.filter(pk=_wallet(person).pk).update(balance=8)  # a row edited by hand
    mismatch = ledger_verify()
    assert mismatch is not None
    assert (mismatch.what, mismatch.expected, mismatch.found) == ("account balance", 7, 8)
    with pytest.raises(CommandError, match="account balance"):
        call_command("verify_coin_ledger")


def test_the_verification_catches_a_version_that_drifted(issuer: Partner, person: Person) -> None:
    _earn(person, issuer, 7)
    CoinAccount.objects.filter(pk=_wallet(person).pk).update(version=5)
    mismatch = ledger_verify()
    assert mismatch is not None
    assert mismatch.what == "account version"


# --- What PostgreSQL enforces by itself -------------------------------------------------------


@pytest.mark.postgres
def test_the_database_refuses_to_edit_or_delete_an_entry_by_orm_and_by_sql(
    issuer: Partner, person: Person
) -> None:
    _earn(person, issuer, 9)
    entry = CoinEntry.objects.first()
    assert entry is not None
    attempts = [
        lambda: CoinEntry.objects.filter(pk=entry.pk).update(amount=10),
        lambda: CoinEntry.objects.filter(pk=entry.pk).delete(),
        lambda: CoinTransaction.objects.all().update(reason={}),
        lambda: _sql("UPDATE federation_coinentry SET amount = 10 WHERE id = %s", [entry.pk]),
        lambda: _sql("DELETE FROM federation_coinentry WHERE id = %s", [entry.pk]),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert CoinEntry.objects.get(pk=entry.pk).amount == 9


@pytest.mark.postgres
def test_the_database_refuses_at_commit_a_transaction_that_does_not_balance(
    issuer: Partner, person: Person
) -> None:
    wallet = _wallet(person)

    def one_sided_entry() -> None:
        with transaction.atomic():
            tx = CoinTransaction.objects.create(kind=Tx.TRANSFER)
            CoinEntry.objects.create(
                transaction=tx,
                account=wallet,
                amount=5,
                balance_after=5,
                account_version=1,
                posted_at=tx.posted_at,
            )
            # What COMMIT does; the test's own outer transaction never commits.
            _sql("SET CONSTRAINTS ALL IMMEDIATE")

    def no_entries_at_all() -> None:
        with transaction.atomic():
            _sql(
                "INSERT INTO federation_cointransaction (id, kind, reason, reference, posted_at) "
                "VALUES (%s, 'transfer', '{}', '', now())",
                [uuid.uuid4()],
            )
            _sql("SET CONSTRAINTS ALL IMMEDIATE")

    with pytest.raises(DatabaseError, match="does not balance"):
        one_sided_entry()
    with pytest.raises(DatabaseError, match="does not balance"):
        no_entries_at_all()
    assert not CoinTransaction.objects.exists()


@pytest.mark.postgres
def test_entries_inserted_one_by_one_may_balance_only_at_commit(
    issuer: Partner, person: Person
) -> None:
    other = liability_account(issuer, person)
    wallet = _wallet(person)
    with transaction.atomic():
        tx = CoinTransaction.objects.create(kind=Tx.TRANSFER)
        CoinEntry.objects.create(
            transaction=tx,
            account=wallet,
            amount=5,
            balance_after=5,
            account_version=1,
            posted_at=tx.posted_at,
        )
        CoinEntry.objects.create(
            transaction=tx,
            account=other,
            amount=-5,
            balance_after=-5,
            account_version=1,
            posted_at=tx.posted_at,
        )
        _sql("SET CONSTRAINTS ALL IMMEDIATE")
    assert CoinEntry.objects.filter(transaction=tx).count() == 2


def _sql(sql: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- Concurrency (real PostgreSQL, real threads and connections) ------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_redemptions_of_the_whole_balance_leave_exactly_one_winner() -> None:
    issuer = make_partner("coin-issuer")
    shop = make_partner("coin-shop")
    person = Person.objects.create()
    _earn(person, issuer, 500)
    start = threading.Barrier(50)

    def redeem(_: int) -> str:
        try:
            start.wait(timeout=30)
            _redeem(person, shop, 500)
            return "won"
        except ApplicationError as refused:
            return str(refused.code)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(redeem, range(50)))

    assert outcomes.count("won") == 1
    assert outcomes.count("insufficient_coins") == 49
    assert balance_of(person) == 0
    assert ledger_verify() is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ring_transfers_in_both_directions_never_deadlock() -> None:
    issuer = make_partner("coin-issuer")
    people = [Person.objects.create() for _ in range(4)]
    for someone in people:
        _earn(someone, issuer, 1000)
    wallets = [_wallet(someone) for someone in people]
    start = threading.Barrier(16)

    def transfer(n: int) -> int:
        # Each thread moves coins round the ring a->b->c->d->a, half of them the other way:
        # opposite lock orders if the ledger locked in the order legs are given.
        ring = wallets if n % 2 else wallets[::-1]
        done = 0
        try:
            start.wait(timeout=30)
            for step in range(10):
                source, target = ring[step % 4], ring[(step + 1) % 4]
                post(Tx.TRANSFER, [Leg(source, -1), Leg(target, 1)])
                done += 1
        finally:
            connection.close()
        return done

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert sum(pool.map(transfer, range(16))) == 160  # a deadlock would raise in a thread

    assert sum(balance_of(someone) for someone in people) == 4000
    assert ledger_verify() is None
    assert ledger_total() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reversals_racing_post_one() -> None:
    issuer = make_partner("coin-issuer")
    person = Person.objects.create()
    original = _earn(person, issuer, 40)
    start = threading.Barrier(8)

    def reverse_it(_: int) -> str:
        try:
            start.wait(timeout=30)
            reverse_transaction(original)
            return "reversed"
        except ApplicationError as refused:
            return str(refused.code)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(reverse_it, range(8)))
    assert outcomes.count("reversed") == 1
    assert balance_of(person) == 0
