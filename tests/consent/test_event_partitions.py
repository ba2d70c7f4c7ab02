"""The consent events are range-partitioned by month of ``recorded_at`` on PostgreSQL (README,
"Partitioning"): an event lands in its month's partition, the rows pointing to it carry its
``recorded_at`` and the database checks the pair, the daily task makes months ahead and never
drops one, a period of the compliance timeline reads only its months, and the uniqueness the
table no longer declares is kept by the member's lock and checked by the chain verification."""

import threading
import uuid
from datetime import UTC, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from consent.compliance.selectors import consent_timeline
from consent.models import ConsentEvent, ConsentState, ProvisionRecord, Purpose, WithdrawalNotice
from consent.services import (
    consent_event_partitions_maintain,
    consent_grant,
    consent_withdraw,
    event_hash,
    provision_record,
)
from consent.services.provisions import PARTITION_MONTHS_AHEAD
from partners.actors import Actor
from partners.models import MemberAccount, Partner
from partners.partitions import month_partitions_create, next_month
from tests.factories import grant_consent, make_member, make_notice
from tests.partitions import (
    check_deferred_now,
    month_of,
    month_start,
    partition_key_and_primary_key,
    partition_name,
    partition_of,
    partitions,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
TABLE = "consent_consentevent"
PURPOSES = ("cross_enrollment", "overlap_matching")


def _seed_purposes() -> None:
    # A transactional test starts from empty tables: the purposes' seed migration is gone too.
    for code in PURPOSES:
        Purpose.objects.get_or_create(code=code, defaults={"name_ja": code, "name_en": code})


@pytest.fixture
def hanako(host: Partner, partner: Partner) -> MemberAccount:
    make_notice(purposes=PURPOSES, recipients=[partner], data_items=["name"])
    return make_member(host, "K-5")


def _foreign_keys_into_events() -> set[tuple[str, tuple[str, ...]]]:
    """(referencing table, its columns) of every foreign key into the events' parent table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, array(SELECT attname FROM unnest(conkey) "
            "WITH ORDINALITY AS k(n, i) JOIN pg_attribute a ON a.attrelid = conrelid "
            "AND a.attnum = k.n ORDER BY k.i) FROM pg_constraint "
            "WHERE confrelid = %s::regclass AND contype = 'f' AND conparentid = 0",
            [TABLE],
        )
        return {(table, tuple(columns)) for table, columns in cursor.fetchall()}


def _plant(event: ConsentEvent, **changes: Any) -> ConsentEvent:
    """A copy of ``event`` with a new id and ``changes``, written past the services, as
    someone with database access could; its hash is recomputed unless given."""
    copy = ConsentEvent.objects.get(pk=event.pk)
    copy.id = uuid.uuid4()
    for field, value in changes.items():
        setattr(copy, field, value)
    if "hash" not in changes:
        copy.hash = event_hash(copy)
    copy.save(force_insert=True)
    return copy


def test_after_migrate_events_are_partitioned_and_referenced_by_pairs() -> None:
    key, primary_key = partition_key_and_primary_key(TABLE)

    assert key == "RANGE (recorded_at)"
    assert primary_key == ["id", "recorded_at"]
    this_month = timezone.now().date()
    expected = {
        partition_name(TABLE, month_of(this_month, n)) for n in range(PARTITION_MONTHS_AHEAD + 1)
    }
    assert expected | {f"{TABLE}_default"} <= partitions(TABLE)
    assert _foreign_keys_into_events() == {
        ("consent_consentstate", ("event_id", "event_recorded_at")),
        ("consent_withdrawalnotice", ("event_id", "event_recorded_at")),
        ("consent_provisionrecord", ("consent_event_id", "consent_event_recorded_at")),
    }


def test_the_services_fill_the_events_recorded_at_wherever_an_event_is_named(
    hanako: MemberAccount, partner: Partner
) -> None:
    (grant,) = grant_consent(hanako, partner, "cross_enrollment")
    record = provision_record(
        member=hanako,
        recipient=partner,
        purpose_code="cross_enrollment",
        data_items=["name"],
        actor=Actor.system(),
    )
    withdrawal = consent_withdraw(
        member=hanako,
        purpose_code="cross_enrollment",
        recipient=partner,
        channel="host_portal",
        occurred_at=timezone.now(),
        actor=Actor.system(),
    )
    check_deferred_now()

    assert partition_of(TABLE, grant.pk) == partition_name(
        TABLE, grant.recorded_at.astimezone(UTC).date()
    )
    assert ProvisionRecord.objects.get(pk=record.pk).consent_event_recorded_at == grant.recorded_at
    notice = WithdrawalNotice.objects.get(event=withdrawal)
    assert notice.event_recorded_at == withdrawal.recorded_at
    state = ConsentState.objects.get(member=hanako)
    assert (state.event_id, state.event_recorded_at) == (withdrawal.pk, withdrawal.recorded_at)


def test_the_database_refuses_a_reference_whose_time_is_not_the_events(
    hanako: MemberAccount, partner: Partner
) -> None:
    (grant,) = grant_consent(hanako, partner, "cross_enrollment")
    ConsentState.objects.filter(event=grant).update(
        event_recorded_at=grant.recorded_at - timedelta(seconds=1)
    )

    with pytest.raises(IntegrityError, match="consent_consentstate_event_fk"):
        check_deferred_now()


def test_the_daily_task_makes_months_ahead_once_and_never_drops_one(
    hanako: MemberAccount, partner: Partner
) -> None:
    (old,) = grant_consent(hanako, partner, "cross_enrollment")
    long_ago = month_of(timezone.now().date() - timedelta(days=4000))
    month_partitions_create(table=TABLE, column="recorded_at", months_ahead=0, today=long_ago)
    later = timezone.now().date() + timedelta(days=400)

    first = consent_event_partitions_maintain(today=later)
    again = consent_event_partitions_maintain(today=later)

    wanted = [partition_name(TABLE, month_of(later, n)) for n in range(PARTITION_MONTHS_AHEAD + 1)]
    assert first == wanted
    assert again == []
    assert {*wanted, partition_name(TABLE, long_ago)} <= partitions(
        TABLE
    )  # eleven years old, and still there
    assert ConsentEvent.objects.filter(pk=old.pk).exists()


def test_a_timeline_period_reads_only_the_partitions_of_its_months(
    hanako: MemberAccount,
) -> None:
    month = month_of(timezone.now().date())
    period = consent_timeline(
        member=hanako,
        recorded_from=month_start(month),
        recorded_before=month_start(next_month(month)),
    )

    plan = period.explain()
    everything = consent_timeline(member=hanako).explain()

    assert partition_name(TABLE, month) in plan
    assert f"{TABLE}_default" not in plan
    assert partition_name(TABLE, next_month(month)) not in plan
    assert (
        partition_name(TABLE, next_month(month)) in everything
    )  # the same query without a period reads all


def test_the_timeline_period_keeps_only_the_events_recorded_in_it(
    hanako: MemberAccount, partner: Partner
) -> None:
    grant_consent(hanako, partner, *PURPOSES)
    now = timezone.now()

    within = consent_timeline(member=hanako, recorded_from=now - timedelta(hours=1))
    before = consent_timeline(member=hanako, recorded_before=now - timedelta(hours=1))

    assert [event.sequence for event in within] == [1, 2]
    assert list(before) == []


def test_the_verification_reports_a_members_sequence_used_twice_across_partitions(
    hanako: MemberAccount, partner: Partner
) -> None:
    grant_consent(hanako, partner, *PURPOSES)
    second = ConsentEvent.objects.get(member=hanako, sequence=2)
    two_months_ago = month_of(timezone.now().date() - timedelta(days=62))
    month_partitions_create(table=TABLE, column="recorded_at", months_ahead=0, today=two_months_ago)
    # Without a unique key over the whole table, the database takes it.
    planted = _plant(second, recorded_at=month_start(two_months_ago) + timedelta(days=3))
    assert partition_of(TABLE, planted.pk) != partition_of(TABLE, second.pk)

    out = StringIO()
    with pytest.raises(CommandError, match="1 broken"):
        call_command("verify_consent_chains", stdout=out)

    assert "K-5: event #2 has the same number as another event of the member" in out.getvalue()


def test_the_verification_reports_a_hash_used_twice_over_every_member(
    host: Partner, hanako: MemberAccount, partner: Partner
) -> None:
    (grant,) = grant_consent(hanako, partner, "cross_enrollment")
    taro = make_member(host, "K-6")
    grant_consent(taro, partner, "overlap_matching")
    taros = ConsentEvent.objects.get(member=taro)
    ConsentState.objects.filter(event=taros).delete()
    ConsentEvent.objects.filter(pk=taros.pk).delete()
    _plant(grant, member=taro, hash=grant.hash)  # taro's one event, under hanako's hash

    out = StringIO()
    with pytest.raises(CommandError, match="2 broken"):
        call_command("verify_consent_chains", stdout=out)

    assert "K-5: event #1 has the same hash as another event" in out.getvalue()
    assert "K-6: event #1 has the same hash as another event" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_appends_to_one_chain_wait_for_the_members_lock_and_number_on(
    host: Partner, partner: Partner
) -> None:
    _seed_purposes()
    notice = make_notice(purposes=PURPOSES, recipients=[partner], data_items=["name"])
    member = make_member(host, "K-7")
    granted, finish = threading.Event(), threading.Event()
    results: dict[str, Any] = {}

    def grant(purpose: str, hold: bool) -> None:
        try:
            with transaction.atomic():
                results[purpose] = consent_grant(
                    member=member,
                    purpose_code=purpose,
                    recipient=partner,
                    notice=notice,
                    channel="host_portal",
                    occurred_at=timezone.now() - timedelta(minutes=1),
                    actor=Actor.system(),
                )
                if hold:
                    granted.set()
                    assert finish.wait(timeout=20)
        except BaseException as exc:  # surfaced by the main thread
            results[f"{purpose} error"] = exc
        finally:
            connection.close()

    first = threading.Thread(target=grant, args=(PURPOSES[0], True))
    first.start()
    try:
        assert granted.wait(timeout=20), "the first grant never happened"
        # Another purpose: no state row in common, only the member's row.
        second = threading.Thread(target=grant, args=(PURPOSES[1], False))
        second.start()
        second.join(timeout=0.5)
        assert second.is_alive(), "the second append did not wait for the first"
    finally:
        finish.set()
        first.join(timeout=20)
    second.join(timeout=20)

    assert not [key for key in results if key.endswith("error")], results
    assert [results[purpose].sequence for purpose in PURPOSES] == [1, 2]
    assert results[PURPOSES[1]].previous_hash == results[PURPOSES[0]].hash


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_the_events_and_the_references_both_ways(
    host: Partner, partner: Partner
) -> None:
    _seed_purposes()
    make_notice(purposes=PURPOSES, recipients=[partner], data_items=["name"])
    member = make_member(host, "K-8")
    (grant,) = grant_consent(member, partner, "cross_enrollment")
    record = provision_record(
        member=member,
        recipient=partner,
        purpose_code="cross_enrollment",
        data_items=["name"],
        actor=Actor.system(),
    )
    executor = MigrationExecutor(connection)
    executor.migrate([("consent", "0008_partition_provision_records")])
    try:
        assert not partitions(TABLE)
        assert _foreign_keys_into_events() == {
            ("consent_consentstate", ("event_id",)),
            ("consent_provisionrecord", ("consent_event_id",)),
            ("consent_withdrawalnotice", ("event_id",)),
        }
        with connection.cursor() as cursor:  # an event of three months ago, and its copies gone
            cursor.execute(
                f"UPDATE {TABLE} SET recorded_at = recorded_at - interval '92 days'"  # noqa: S608
            )
    finally:
        call_command("migrate", verbosity=0)

    moved = ConsentEvent.objects.get(pk=grant.pk)
    assert partition_of(TABLE, moved.pk) == partition_name(
        TABLE, moved.recorded_at.astimezone(UTC).date()
    )
    assert moved.recorded_at < grant.recorded_at - timedelta(days=91)
    state = ConsentState.objects.get(event=grant)
    assert state.event_recorded_at == moved.recorded_at  # filled again from the event
    provision = ProvisionRecord.objects.get(pk=record.pk)
    assert provision.consent_event_recorded_at == moved.recorded_at
