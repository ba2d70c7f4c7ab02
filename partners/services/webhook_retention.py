"""Retention of webhook deliveries and their attempts (README, "Partitioning").

A delivery may go once it was created ``SANPO_WEBHOOK_DELIVERY_RETENTION_DAYS`` before today
and is no longer pending; its attempts go with it. On PostgreSQL both tables are partitioned by
month of the delivery's ``created_at``, so a month whose every delivery may go is dropped whole,
attempts first (their foreign key points into the deliveries); a month holding a pending delivery
waits whole until it has none. Rows are deleted one by one under the same rule only where no
month partition takes them: in the default partition, and on SQLite, where nothing is
partitioned. So on PostgreSQL a delivery is kept from the retention up to a month longer, and
the month partitions never carry the dead rows of a delete.

Nothing is audited: like the provision records' purge, this is housekeeping that only logs
(``partners.partitions``: "partition dropped: …").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import NamedTuple
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from partners.models import WebhookAttempt, WebhookDelivery
from partners.partition_migrations import is_partitioned
from partners.partitions import (
    LOCK_TIMEOUT,
    MonthPartition,
    month_partition_name,
    month_partitions,
    month_partitions_create,
    month_partitions_detach,
    next_month,
    with_lock_retries,
)

logger = logging.getLogger(__name__)

# How many months past this one always have their partition.
PARTITION_MONTHS_AHEAD = 3
# Deliveries deleted row by row per transaction.
DELETE_BATCH = 1000

DELIVERIES = WebhookDelivery._meta.db_table
ATTEMPTS = WebhookAttempt._meta.db_table


class DeliveryRetention(NamedTuple):
    created: list[str]  # partitions made ahead of time
    dropped: list[str]  # partitions dropped with their rows
    deleted: int  # deliveries deleted row by row


def webhook_deliveries_retain(*, today: date | None = None) -> DeliveryRetention:
    """The daily task: make this month's and the next PARTITION_MONTHS_AHEAD months' partitions
    of both tables if missing (PostgreSQL), drop each month that ended at least the retention
    before ``today`` and holds no pending delivery, then delete the finished deliveries older
    than that which no month partition holds (all of them on SQLite), with their attempts.
    Idempotent."""
    day = today or timezone.now().date()
    cutoff = day - timedelta(days=settings.SANPO_WEBHOOK_DELIVERY_RETENTION_DAYS)
    created: list[str] = []
    dropped: list[str] = []
    partitioned = _partitioned()
    if partitioned:
        month = day.replace(day=1)
        for _ in range(PARTITION_MONTHS_AHEAD + 1):
            created += _create_month(month)
            month = next_month(month)
        dropped = _drop_expired_months(before=cutoff)
    before = datetime.combine(cutoff, datetime.min.time(), UTC)
    deleted = _delete_expired_rows(before=before, default_only=partitioned)
    return DeliveryRetention(created, dropped, deleted)


def _partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        return is_partitioned(cursor, DELIVERIES)


def _create_month(month: date) -> list[str]:
    """Make ``month``'s partition of both tables if either is missing, in one transaction.

    Rows of the month already in the DEFAULT partitions are moved into the new ones. A
    delivery cannot leave the default while an attempt points to it (the foreign key is
    checked on the default partition alone), so its attempts are held aside in a temporary
    table meanwhile, the key checked, and put back into their own new partition."""
    names = [month_partition_name(t, month) for t in (DELIVERIES, ATTEMPTS)]
    existing = {p.name for t in (DELIVERIES, ATTEMPTS) for p in month_partitions(t)}
    if set(names) <= existing:
        return []
    return with_lock_retries(partial(_create_month_locked, month))


def _create_month_locked(month: date) -> list[str]:
    start, end = (f"{m.isoformat()} 00:00+00" for m in (month, next_month(month)))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        # In the order the delivery service writes them (an attempt, then its delivery).
        cursor.execute(f"LOCK TABLE {ATTEMPTS}, {DELIVERIES} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"CREATE TEMPORARY TABLE held_attempts (LIKE {ATTEMPTS}) ON COMMIT DROP")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {ATTEMPTS}_default WHERE delivery_created_at >= %s "  # noqa: S608
            "AND delivery_created_at < %s RETURNING *) INSERT INTO held_attempts "
            "SELECT * FROM moved",
            [start, end],
        )
        created = month_partitions_create(
            table=DELIVERIES,
            column="created_at",
            months_ahead=0,
            today=month,
            move_referenced=True,  # their attempts are held aside
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the moved deliveries' key, now
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        created += month_partitions_create(
            table=ATTEMPTS, column="delivery_created_at", months_ahead=0, today=month
        )
        cursor.execute(f"INSERT INTO {ATTEMPTS} SELECT * FROM held_attempts")  # noqa: S608
        cursor.execute("DROP TABLE held_attempts")
    return created


def _drop_expired_months(*, before: date) -> list[str]:
    """Drop the month partitions of both tables that end on or before ``before`` and hold no
    pending delivery: a month's attempts and its deliveries in one transaction, attempts first,
    so neither goes without the other."""
    dropped: list[str] = []
    for month in month_partitions(DELIVERIES):
        if month.end > before or _holds_pending(month.name):
            continue
        dropped += with_lock_retries(partial(_drop_month, month))
    return dropped


def _drop_month(month: MonthPartition) -> list[str]:
    attempts = month_partition_name(ATTEMPTS, month.start)
    dropped: list[str] = []
    with transaction.atomic():
        for table, name in ((ATTEMPTS, attempts), (DELIVERIES, month.name)):
            dropped += month_partitions_detach(
                table=table, before=month.end, drop=True, keep=_all_but(name)
            )
    return dropped


def _all_but(name: str) -> Callable[[str], bool]:
    def keep(other: str) -> bool:
        return other != name

    return keep


def _holds_pending(partition: str) -> bool:
    query = "SELECT EXISTS (SELECT 1 FROM {} WHERE state = %s)"
    with connection.cursor() as cursor:
        cursor.execute(
            query.format(connection.ops.quote_name(partition)), [WebhookDelivery.State.PENDING]
        )
        return bool(cursor.fetchone()[0])


def _delete_expired_rows(*, before: datetime, default_only: bool) -> int:
    """Delete the finished deliveries created before ``before`` (``default_only``: those in
    the default partition) and their attempts, a batch per transaction. Returns how many."""
    deleted = 0
    while batch := _expired_batch(before=before, default_only=default_only):
        with transaction.atomic():
            WebhookAttempt.objects.filter(
                delivery_id__in=batch, delivery_created_at__lt=before
            ).delete()
            WebhookDelivery.objects.filter(pk__in=batch, created_at__lt=before).delete()
        deleted += len(batch)
    if deleted:
        logger.info("webhook deliveries deleted past their retention: %d", deleted)
    return deleted


def _expired_batch(*, before: datetime, default_only: bool) -> list[UUID]:
    if not default_only:
        expired = WebhookDelivery.objects.filter(created_at__lt=before).exclude(
            state=WebhookDelivery.State.PENDING
        )
        return list(expired.order_by().values_list("pk", flat=True)[:DELETE_BATCH])
    query = "SELECT id FROM {} WHERE created_at < %s AND state <> %s LIMIT %s"
    with connection.cursor() as cursor:
        cursor.execute(
            query.format(connection.ops.quote_name(f"{DELIVERIES}_default")),
            [before, WebhookDelivery.State.PENDING, DELETE_BATCH],
        )
        return [row[0] for row in cursor.fetchall()]
