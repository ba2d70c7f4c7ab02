"""The coin entries carry their transaction's ``posted_at`` and, on PostgreSQL, are
range-partitioned by month of it (README, "Partitioning"): an entry lands in its month's
partition, the daily task makes months ahead of time, the readers of a period read only its
partitions, and the verification checks over the whole table what the partitioned table can no
longer declare (one entry per account version, each stamped with its transaction's time)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from federation.coins.models import CoinAccount, CoinEntry, CoinTransaction
from federation.coins.selectors import ledger_verify, monthly_flows
from federation.coins.services import Leg, account_for, liability_account, post
from federation.coins.services.partitions import (
    PARTITION_MONTHS_AHEAD,
    coin_entry_partitions_maintain,
)
from federation.coins.tasks import maintain_coin_entry_partitions
from federation.metrics.services.rollups import _activity_rows
from partners.models import Partner, Person
from partners.partitions import month_partitions_create, next_month
from tests.factories import make_partner
from tests.federation.settlement_world import ledger_clock
from tests.partitions import (
    month_of,
    month_start,
    partition_key_and_primary_key,
    partition_name,
    partitions,
)

TABLE = "federation_coinentry"
postgres = pytest.mark.postgres


@pytest.fixture
def issuer(db: Any) -> Partner:
    return make_partner("entry-issuer")


@pytest.fixture
def person(db: Any) -> Person:
    return Person.objects.create()


def _earn(person: Person, issuer: Partner, coins: int = 5) -> CoinTransaction:
    wallet = account_for(CoinAccount.Kind.WALLET, person=person)
    return post(
        CoinTransaction.Kind.EARN_PURCHASE,
        [Leg(wallet, coins), Leg(liability_account(issuer, person), -coins)],
        partner=issuer,
    )


def _earn_at(moment: datetime, person: Person, issuer: Partner) -> CoinTransaction:
    with ledger_clock(moment):
        return _earn(person, issuer)


def _partitions_of(posting: CoinTransaction) -> set[str]:
    with connection.cursor() as cursor:
        query = f"SELECT tableoid::regclass::text FROM {TABLE} WHERE transaction_id = %s"  # noqa: S608
        cursor.execute(query, [posting.pk])
        return {row[0] for row in cursor.fetchall()}


@contextmanager
def _without_triggers() -> Iterator[None]:
    """Plant rows the ledger itself would refuse: on PostgreSQL its triggers (append-only,
    balanced at commit) and foreign keys are set aside for this transaction."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        yield
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = origin")


# --- On every database -------------------------------------------------------------------------


def test_every_entry_carries_its_transactions_posted_at(issuer: Partner, person: Person) -> None:
    earlier = _earn_at(timezone.now() - timedelta(days=40), person, issuer)
    now = _earn(person, issuer)

    for posting in (earlier, now):
        stamps = set(CoinEntry.objects.filter(transaction=posting).values_list("posted_at"))
        assert stamps == {(posting.posted_at,)}
    assert ledger_verify() is None


def test_the_verification_reports_two_entries_of_one_account_version(
    issuer: Partner, person: Person
) -> None:
    _earn(person, issuer)
    entry = CoinEntry.objects.filter(account__person=person).get()
    assert ledger_verify() is None

    with _without_triggers():
        twin = CoinTransaction.objects.create(kind=CoinTransaction.Kind.TRANSFER)
        CoinEntry.objects.create(
            transaction=twin,
            account_id=entry.account_id,
            amount=1,
            balance_after=entry.balance_after,
            account_version=entry.account_version,
            posted_at=twin.posted_at,
        )

    mismatch = ledger_verify()
    assert mismatch is not None
    assert (mismatch.what, mismatch.key) == (
        "entry version",
        f"{entry.account_id}/{entry.account_version}",
    )
    assert (mismatch.expected, mismatch.found) == (1, 2)
    with pytest.raises(CommandError, match="entry version"):
        call_command("verify_coin_ledger")


def test_the_verification_reports_an_entry_stamped_with_another_time(
    issuer: Partner, person: Person
) -> None:
    posting = _earn(person, issuer)
    account = CoinAccount.objects.get(kind=CoinAccount.Kind.WALLET, person=person)
    later = posting.posted_at + timedelta(days=31)

    with _without_triggers():
        stray = CoinEntry.objects.create(
            transaction=posting,
            account=account,
            amount=1,
            balance_after=account.balance + 1,
            account_version=account.version + 1,
            posted_at=later,
        )

    mismatch = ledger_verify()
    assert mismatch is not None
    assert (mismatch.what, mismatch.key) == ("entry posted at", str(stray.pk))
    assert str(mismatch.expected)[:19] == posting.posted_at.astimezone(UTC).isoformat()[:19]
    assert str(mismatch.found)[:19] == later.astimezone(UTC).isoformat()[:19]
    with pytest.raises(CommandError, match="entry posted at"):
        call_command("verify_coin_ledger")


def test_the_daily_task_changes_nothing_without_partitions(db: Any) -> None:
    if connection.vendor == "postgresql":
        pytest.skip("SQLite: nothing is partitioned")
    assert maintain_coin_entry_partitions() == []


# --- PostgreSQL: the partitions ----------------------------------------------------------------


@postgres
def test_after_migrate_the_entries_are_partitioned_by_posted_at(db: Any) -> None:
    with connection.cursor() as cursor:
        key, primary_key = partition_key_and_primary_key(TABLE)
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            [TABLE],
        )
        triggers = {row[0] for row in cursor.fetchall()}

    assert key == "RANGE (posted_at)"
    assert primary_key == ["id", "posted_at"]
    assert triggers == {"sanpo_coins_entry_append_only", "sanpo_coins_entry_balanced"}
    today = timezone.now().date()
    expected = {
        partition_name(TABLE, month_of(today, n)) for n in range(PARTITION_MONTHS_AHEAD + 1)
    }
    assert expected | {f"{TABLE}_default"} <= partitions(TABLE)


@postgres
def test_entries_land_in_their_months_partition_and_an_unplanned_month_in_the_default(
    issuer: Partner, person: Person
) -> None:
    now = _earn(person, issuer)
    far = _earn_at(datetime(2001, 2, 3, tzinfo=UTC), person, issuer)

    assert _partitions_of(now) == {partition_name(TABLE, now.posted_at.astimezone(UTC).date())}
    assert _partitions_of(far) == {f"{TABLE}_default"}
    entry = CoinEntry.objects.filter(transaction=far).first()
    assert entry is not None
    assert CoinEntry.objects.get(pk=entry.pk).posted_at == far.posted_at  # by id alone
    assert ledger_verify() is None


@postgres
def test_the_database_refuses_an_entry_stamped_with_another_time_than_its_transaction(
    issuer: Partner, person: Person
) -> None:
    wallet = account_for(CoinAccount.Kind.WALLET, person=person)
    other = liability_account(issuer, person)

    def stamped_a_month_later() -> None:
        with transaction.atomic():
            posting = CoinTransaction.objects.create(kind=CoinTransaction.Kind.TRANSFER)
            for account, amount in ((wallet, 5), (other, -5)):
                CoinEntry.objects.create(
                    transaction=posting,
                    account=account,
                    amount=amount,
                    balance_after=amount,
                    account_version=1,
                    posted_at=posting.posted_at + timedelta(days=31),
                )
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT does

    with pytest.raises(DatabaseError, match="does not balance"):
        stamped_a_month_later()
    assert not CoinEntry.objects.exists()


@postgres
def test_the_daily_task_makes_months_ahead_once_and_moves_entries_out_of_the_default(
    issuer: Partner, person: Person
) -> None:
    later = timezone.now().date() + timedelta(days=400)
    early = _earn_at(month_start(month_of(later, 1)) + timedelta(days=2), person, issuer)
    assert _partitions_of(early) == {f"{TABLE}_default"}
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as a commit would, before the move

    first = coin_entry_partitions_maintain(today=later)
    again = coin_entry_partitions_maintain(today=later)

    wanted = [partition_name(TABLE, month_of(later, n)) for n in range(PARTITION_MONTHS_AHEAD + 1)]
    assert first == wanted
    assert again == []
    assert set(wanted) <= partitions(TABLE)
    assert _partitions_of(early) == {partition_name(TABLE, month_of(later, 1))}
    assert ledger_verify() is None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = 'sanpo_coins_entry_append_only' AND c.relname = ANY(%s)",
            [[f"{TABLE}_default", partition_name(TABLE, month_of(later, 1))]],
        )
        assert dict(cursor.fetchall()) == {
            f"{TABLE}_default": "O",
            partition_name(TABLE, month_of(later, 1)): "O",
        }
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CoinEntry.objects.filter(transaction=early).delete()


# --- PostgreSQL: the readers of a period prune -------------------------------------------------


def _entry_scans(plan: str) -> set[str]:
    return {word for word in plan.replace("(", " ").split() if word.startswith(f"{TABLE}_")}


@postgres
def test_the_activity_rollup_of_some_days_reads_only_their_months_partition(db: Any) -> None:
    today = timezone.localdate()
    month = month_of(today)
    select, params = _activity_rows(month + timedelta(days=1), month + timedelta(days=10))
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {select}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    scans = _entry_scans(plan)
    assert any(name.startswith(partition_name(TABLE, month)) for name in scans), plan
    assert not any(name.startswith(partition_name(TABLE, next_month(month))) for name in scans), (
        plan
    )
    assert not any(name.startswith(f"{TABLE}_default") for name in scans), plan


@postgres
def test_the_monthly_flows_read_only_the_months_asked(db: Any) -> None:
    since = month_of(timezone.localdate())
    month_partitions_create(
        table=TABLE, column="posted_at", months_ahead=2, today=since - timedelta(days=62)
    )
    with CaptureQueriesContext(connection) as queries:
        monthly_flows(since)
    (redeemed,) = [q["sql"] for q in queries.captured_queries if TABLE in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {redeemed}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    scans = _entry_scans(plan)
    assert any(name.startswith(partition_name(TABLE, since)) for name in scans), plan
    # Tokyo's month starts nine hours before UTC's, on the previous UTC month's last day: that
    # month's partition is read too, the ones before it are not.
    assert not any(
        name.startswith(partition_name(TABLE, month_of(since - timedelta(days=40))))
        for name in scans
    )
    everything = CoinEntry.objects.all().explain()
    assert (
        partition_name(TABLE, month_of(since - timedelta(days=40))) in everything
    )  # unfiltered: all of them


# --- PostgreSQL: the migration keeps the rows ----------------------------------------------


@postgres
@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_the_entries_of_the_plain_table_into_partitions() -> None:
    issuer, person = make_partner("entry-migration"), Person.objects.create()
    now = _earn(person, issuer)
    earlier_month = month_of(timezone.now().date() - timedelta(days=70))
    earlier = _earn_at(month_start(earlier_month) + timedelta(hours=5), person, issuer)
    executor = MigrationExecutor(connection)
    migration = executor.loader.get_migration("federation", "0018_partition_coin_entries")
    executor.migrate([dep for dep in migration.dependencies if dep[0] == "federation"])
    try:
        assert not partitions(TABLE)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {TABLE}")  # noqa: S608 - a constant
            assert cursor.fetchone()[0] == 4
    finally:
        call_command("migrate", verbosity=0)

    assert _partitions_of(now) == {partition_name(TABLE, now.posted_at.astimezone(UTC).date())}
    assert _partitions_of(earlier) == {partition_name(TABLE, earlier_month)}
    for posting in (now, earlier):
        stamps = set(CoinEntry.objects.filter(transaction=posting).values_list("posted_at"))
        assert stamps == {(posting.posted_at,)}
    assert ledger_verify() is None
    _earn(person, issuer)  # the triggers are back: a posting still balances at commit
    assert CoinEntry.objects.count() == 6
