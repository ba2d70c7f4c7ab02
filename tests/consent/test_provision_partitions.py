"""The provision records are range-partitioned by month of ``provided_at`` on PostgreSQL
(README, "Partitioning"): a record lands in its month's partition, the daily task makes months
ahead of time and drops months past their retention, and a query on a period reads only the
partitions of that period."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from consent.compliance.selectors.record import provision_records
from consent.models import ProvisionRecord, Purpose
from consent.services import provision_partitions_maintain, provision_record
from consent.services.provisions import PARTITION_MONTHS_AHEAD
from partners.actors import Actor
from partners.models import MemberAccount, Partner
from partners.partitions import month_partitions_create, next_month
from tests.factories import grant_consent, make_member, make_notice
from tests.partitions import (
    month_of,
    partition_key_and_primary_key,
    partition_name,
    partition_of,
    partitions,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
TABLE = "consent_provisionrecord"


@pytest.fixture
def hanako(host: Partner, partner: Partner) -> MemberAccount:
    return _consented(host, partner)


def _consented(host: Partner, partner: Partner) -> MemberAccount:
    make_notice(purposes=["cross_enrollment"], recipients=[partner], data_items=["name"])
    member = make_member(host, "K-5")
    grant_consent(member, partner, "cross_enrollment")
    return member


def _provide(member: MemberAccount, recipient: Partner) -> ProvisionRecord:
    return provision_record(
        member=member,
        recipient=recipient,
        purpose_code="cross_enrollment",
        data_items=["name"],
        actor=Actor.system(),
    )


def _move(record: ProvisionRecord, provided_at: datetime, **fields: Any) -> None:
    """Put a record at another time, as if it had been written then: PostgreSQL moves the row
    to the partition of its new month."""
    ProvisionRecord.objects.filter(pk=record.pk).update(provided_at=provided_at, **fields)


def test_after_migrate_the_table_is_partitioned_with_months_ahead_and_a_default() -> None:
    key, primary_key = partition_key_and_primary_key(TABLE)

    assert key == "RANGE (provided_at)"
    assert primary_key == ["id", "provided_at"]
    this_month = timezone.now().date()
    expected = {
        partition_name(TABLE, month_of(this_month, n)) for n in range(PARTITION_MONTHS_AHEAD + 1)
    }
    assert expected | {f"{TABLE}_default"} <= partitions(TABLE)


def test_a_provision_lands_in_its_months_partition_and_an_unplanned_month_in_the_default(
    hanako: MemberAccount, partner: Partner
) -> None:
    now, far = _provide(hanako, partner), _provide(hanako, partner)
    _move(far, datetime(2001, 2, 3, tzinfo=UTC))

    assert partition_of(TABLE, now.pk) == partition_name(TABLE, now.provided_at.date())
    assert partition_of(TABLE, far.pk) == f"{TABLE}_default"
    assert ProvisionRecord.objects.count() == 2


def test_the_daily_task_makes_months_ahead_once_and_moves_rows_out_of_the_default(
    hanako: MemberAccount, partner: Partner
) -> None:
    later = timezone.now().date() + timedelta(days=400)
    early = _provide(hanako, partner)
    _move(early, datetime.combine(month_of(later, 1), datetime.min.time(), UTC) + timedelta(days=2))
    assert partition_of(TABLE, early.pk) == f"{TABLE}_default"

    first = provision_partitions_maintain(today=later)
    again = provision_partitions_maintain(today=later)

    wanted = [partition_name(TABLE, month_of(later, n)) for n in range(PARTITION_MONTHS_AHEAD + 1)]
    assert first.created == wanted
    assert again.created == []
    assert set(wanted) <= partitions(TABLE)
    assert partition_of(TABLE, early.pk) == partition_name(TABLE, month_of(later, 1))


def test_months_past_their_retention_are_dropped_and_their_rows_gone_the_rest_kept(
    hanako: MemberAccount, partner: Partner, settings: Any
) -> None:
    today = timezone.now().date()
    retention = timedelta(days=settings.SANPO_PROVISION_RETENTION_DAYS)
    expired_month = month_of(today - retention - timedelta(days=62))
    longer_month = next_month(expired_month)  # written under a longer retention: still kept
    for month in (expired_month, longer_month):
        month_partitions_create(table=TABLE, column="provided_at", months_ahead=0, today=month)
    expired, longer, recent = (_provide(hanako, partner) for _ in range(3))
    _move(expired, datetime.combine(expired_month, datetime.min.time(), UTC), retain_until=today)
    _move(longer, datetime.combine(longer_month, datetime.min.time(), UTC), retain_until=today)
    ProvisionRecord.objects.filter(pk=expired.pk).update(retain_until=today - timedelta(days=1))
    with connection.cursor() as cursor:
        # Run the deferred foreign-key checks now, as a commit would: a table with checks
        # pending cannot be dropped, and the daily task only ever sees committed rows.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    changes = provision_partitions_maintain(today=today)

    assert changes.dropped == [partition_name(TABLE, expired_month)]
    assert partition_name(TABLE, expired_month) not in partitions(TABLE)
    assert partition_name(TABLE, longer_month) in partitions(TABLE)
    kept = set(ProvisionRecord.objects.values_list("pk", flat=True))
    assert kept == {longer.pk, recent.pk}
    assert provision_partitions_maintain(today=today).dropped == []


def test_a_query_on_a_period_reads_only_that_periods_partition(hanako: MemberAccount) -> None:
    month = month_of(timezone.now().date())
    start = datetime.combine(month, datetime.min.time(), UTC)
    end = datetime.combine(next_month(month), datetime.min.time(), UTC)
    period = provision_records(member=hanako).filter(provided_at__gte=start, provided_at__lt=end)

    plan = period.explain()
    everything = provision_records(member=hanako).explain()

    assert partition_name(TABLE, month) in plan
    assert f"{TABLE}_default" not in plan
    assert partition_name(TABLE, next_month(month)) not in plan
    assert (
        partition_name(TABLE, next_month(month)) in everything
    )  # the same query unfiltered reads them all


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_the_rows_of_the_plain_table_into_partitions(
    host: Partner, partner: Partner
) -> None:
    # A transactional test starts from empty tables: the purposes' seed migration is gone too.
    Purpose.objects.get_or_create(
        code="cross_enrollment", defaults={"name_ja": "相互入会", "name_en": "Cross enrollment"}
    )
    member = _consented(host, partner)
    # Written by today's services, before going back: the model has moved on since 0007.
    record, earlier = _provide(member, partner), _provide(member, partner)
    executor = MigrationExecutor(connection)
    executor.migrate([("consent", "0007_verbose_names_and_choice_labels")])
    try:
        assert not partitions(TABLE)
        # Not yet past its retention, so no other test here drops it.
        earlier_month = month_of(timezone.now().date() - timedelta(days=70))
        _move(earlier, datetime.combine(earlier_month, datetime.min.time(), UTC))
    finally:
        call_command("migrate", verbosity=0)

    assert partition_of(TABLE, record.pk) == partition_name(TABLE, record.provided_at.date())
    assert partition_of(TABLE, earlier.pk) == partition_name(TABLE, earlier_month)
    assert ProvisionRecord.objects.get(pk=record.pk).data_items == ["name"]
