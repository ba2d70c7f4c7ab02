"""Webhook deliveries and their attempts are range-partitioned by month of the delivery's
``created_at`` on PostgreSQL (README, "Partitioning"): an attempt lands in the same month as its
delivery, a composite foreign key ties the two, the daily task makes months ahead and drops a
month of both once past retention unless it holds a pending delivery, and a query on a period
reads only that period's partitions."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from partners.models import Partner, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from partners.partitions import month_partitions_create, next_month
from partners.selectors import webhook_delivery_list
from partners.services import webhook_deliveries_retain
from partners.services.webhook_retention import PARTITION_MONTHS_AHEAD
from tests.partitions import month_of, month_start, partition_name, partition_of, partitions
from tests.partners.test_webhook_retention import deliver, endpoint_for, move

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
DELIVERIES = "partners_webhookdelivery"
ATTEMPTS = "partners_webhookattempt"


@pytest.fixture(autouse=True)
def _one_attempt(settings: Any) -> None:
    settings.SANPO_WEBHOOK_MAX_ATTEMPTS = 1


@pytest.fixture
def endpoint(partner: Partner) -> WebhookEndpoint:
    return endpoint_for(partner)


def test_both_tables_are_partitioned_with_months_ahead_and_tied_by_a_composite_key() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_partkeydef(%s::regclass), pg_get_partkeydef(%s::regclass)",
            [DELIVERIES, ATTEMPTS],
        )
        keys = cursor.fetchone()
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid = %s::regclass AND confrelid = %s::regclass AND conparentid = 0",
            [ATTEMPTS, DELIVERIES],
        )
        (foreign_key,) = (row[0] for row in cursor.fetchall())

    assert keys == ("RANGE (created_at)", "RANGE (delivery_created_at)")
    assert foreign_key.startswith(
        "FOREIGN KEY (delivery_id, delivery_created_at) "
        "REFERENCES partners_webhookdelivery(id, created_at)"
    )
    this_month = timezone.now().date()
    for table in (DELIVERIES, ATTEMPTS):
        months = {
            partition_name(table, month_of(this_month, n))
            for n in range(PARTITION_MONTHS_AHEAD + 1)
        }
        assert months | {f"{table}_default"} <= partitions(table)


def test_an_attempt_lands_in_the_month_of_its_delivery(endpoint: WebhookEndpoint) -> None:
    delivery = deliver(endpoint, finished=True)
    earlier = month_of(timezone.now().date() - timedelta(days=40))
    month_partitions_create(table=DELIVERIES, column="created_at", months_ahead=0, today=earlier)
    month_partitions_create(
        table=ATTEMPTS, column="delivery_created_at", months_ahead=0, today=earlier
    )
    moved = deliver(endpoint, finished=True)
    move(moved, month_start(earlier) + timedelta(days=3))

    this_month = delivery.created_at.date()
    assert partition_of(DELIVERIES, delivery.pk, column="id") == partition_name(
        DELIVERIES, this_month
    )
    assert partition_of(ATTEMPTS, delivery.pk, column="delivery_id") == partition_name(
        ATTEMPTS, this_month
    )
    assert partition_of(DELIVERIES, moved.pk, column="id") == partition_name(DELIVERIES, earlier)
    assert partition_of(ATTEMPTS, moved.pk, column="delivery_id") == partition_name(
        ATTEMPTS, earlier
    )


def test_the_database_refuses_an_attempt_whose_copied_time_is_not_its_deliverys(
    endpoint: WebhookEndpoint,
) -> None:
    delivery = deliver(endpoint, finished=False)

    def write(delivery_created_at: datetime) -> None:
        WebhookAttempt.objects.create(
            delivery=delivery,
            delivery_created_at=delivery_created_at,
            number=1,
            started_at=timezone.now(),
            duration_ms=1,
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as the commit would

    with pytest.raises(IntegrityError), transaction.atomic():
        write(delivery.created_at - timedelta(seconds=1))
    with transaction.atomic():
        write(delivery.created_at)
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


def test_the_daily_task_makes_months_ahead_once_and_moves_both_out_of_the_default(
    endpoint: WebhookEndpoint,
) -> None:
    later = timezone.now().date() + timedelta(days=400)
    early = deliver(endpoint, finished=True)
    move(early, month_start(month_of(later, 1)) + timedelta(days=2))
    assert partition_of(DELIVERIES, early.pk, column="id") == f"{DELIVERIES}_default"
    assert partition_of(ATTEMPTS, early.pk, column="delivery_id") == f"{ATTEMPTS}_default"

    first = webhook_deliveries_retain(today=later)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the moved rows still match
    again = webhook_deliveries_retain(today=later)

    ahead = range(PARTITION_MONTHS_AHEAD + 1)
    wanted = [partition_name(t, month_of(later, n)) for n in ahead for t in (DELIVERIES, ATTEMPTS)]
    assert first.created == wanted
    assert again.created == []
    assert partition_of(DELIVERIES, early.pk, column="id") == partition_name(
        DELIVERIES, month_of(later, 1)
    )
    assert partition_of(ATTEMPTS, early.pk, column="delivery_id") == partition_name(
        ATTEMPTS, month_of(later, 1)
    )


def test_a_month_past_retention_goes_whole_unless_it_holds_a_pending_delivery(
    endpoint: WebhookEndpoint, settings: Any
) -> None:
    today = timezone.now().date()
    retention = timedelta(days=settings.SANPO_WEBHOOK_DELIVERY_RETENTION_DAYS)
    expired_month = month_of(today - retention - timedelta(days=62))
    held_month = next_month(expired_month)
    for month in (expired_month, held_month):
        month_partitions_create(table=DELIVERIES, column="created_at", months_ahead=0, today=month)
        month_partitions_create(
            table=ATTEMPTS, column="delivery_created_at", months_ahead=0, today=month
        )
    expired, held_done, held_pending, recent = (
        deliver(endpoint, finished=f) for f in (True, True, False, True)
    )
    move(expired, month_start(expired_month) + timedelta(days=1))
    move(held_done, month_start(held_month) + timedelta(days=1))
    move(held_pending, month_start(held_month) + timedelta(days=2))

    changes = webhook_deliveries_retain(today=today)

    assert changes.dropped == [
        partition_name(ATTEMPTS, expired_month),
        partition_name(DELIVERIES, expired_month),
    ]
    assert partition_name(DELIVERIES, expired_month) not in partitions(DELIVERIES)
    assert partition_name(ATTEMPTS, expired_month) not in partitions(ATTEMPTS)
    assert partition_name(DELIVERIES, held_month) in partitions(DELIVERIES)
    # The month held back by the pending delivery waits whole: no row is deleted in a month.
    assert changes.deleted == 0
    kept = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert kept == {held_done.pk, held_pending.pk, recent.pk}
    attempted = set(WebhookAttempt.objects.values_list("delivery_id", flat=True))
    assert attempted == {held_done.pk, recent.pk}
    assert webhook_deliveries_retain(today=today)[1:] == ([], 0)


def test_a_query_on_a_period_reads_only_that_periods_partitions(
    endpoint: WebhookEndpoint,
) -> None:
    month = month_of(timezone.now().date())
    period = {
        "created_at__gte": month_start(month),
        "created_at__lt": month_start(next_month(month)),
    }
    deliveries = webhook_delivery_list(endpoint=endpoint)
    attempts = WebhookAttempt.objects.filter(
        delivery__endpoint=endpoint,
        delivery_created_at__gte=month_start(month),
        delivery_created_at__lt=month_start(next_month(month)),
    )

    plan = deliveries.filter(**period).explain()
    attempts_plan = attempts.explain()
    everything = deliveries.explain()

    assert partition_name(DELIVERIES, month) in plan
    assert f"{DELIVERIES}_default" not in plan
    assert partition_name(DELIVERIES, next_month(month)) not in plan
    assert partition_name(ATTEMPTS, month) in attempts_plan
    assert partition_name(ATTEMPTS, next_month(month)) not in attempts_plan
    assert (
        partition_name(DELIVERIES, next_month(month)) in everything
    )  # unfiltered, it reads them all


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_the_rows_both_ways_and_fills_the_copied_time(
    endpoint: WebhookEndpoint,
) -> None:
    executor = MigrationExecutor(connection)
    before = ("partners", "0012_outbox_request_id")
    executor.migrate([before])
    try:
        assert not partitions(DELIVERIES)
        old_attempt = executor.loader.project_state([before]).apps.get_model(
            "partners", "WebhookAttempt"
        )
        earlier = month_of(timezone.now().date() - timedelta(days=40))
        deliveries = [
            WebhookDelivery.objects.create(
                event_id=endpoint.pk, event_type="api_key.issued", payload={}, endpoint=endpoint
            )
            for _ in range(2)
        ]
        WebhookDelivery.objects.filter(pk=deliveries[1].pk).update(created_at=month_start(earlier))
        for delivery in deliveries:
            old_attempt.objects.create(
                delivery_id=delivery.pk, number=1, started_at=timezone.now(), duration_ms=5
            )
    finally:
        call_command("migrate", verbosity=0)

    for delivery in deliveries:
        delivery.refresh_from_db()
        attempt = WebhookAttempt.objects.get(delivery=delivery)
        assert attempt.delivery_created_at == delivery.created_at
    assert partition_of(DELIVERIES, deliveries[1].pk, column="id") == partition_name(
        DELIVERIES, earlier
    )
    assert partition_of(ATTEMPTS, deliveries[1].pk, column="delivery_id") == partition_name(
        ATTEMPTS, earlier
    )

    MigrationExecutor(connection).migrate([before])
    try:
        assert not partitions(DELIVERIES)
        assert not partitions(ATTEMPTS)
        assert WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).count() == 2
    finally:
        call_command("migrate", verbosity=0)
    assert WebhookAttempt.objects.filter(delivery__in=deliveries).count() == 2
