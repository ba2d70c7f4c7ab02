"""Retention of webhook deliveries and their attempts (README, "Partitioning").

A delivery may go once it was created ``SANPO_WEBHOOK_DELIVERY_RETENTION_DAYS`` before today
and is no longer pending; its attempts go with it. On PostgreSQL both tables are partitioned by
month of the delivery's ``created_at``, so a month whose every delivery may go is dropped whole,
attempts first (their foreign key points into the deliveries). The rows the months leave behind
(the default partition, a month held back by a pending delivery, or every row on SQLite, where
nothing is partitioned) are deleted row by row under the same rule.

Nothing is audited: like the provision records' purge, this is housekeeping that only logs
(``partners.partitions``: "partition dropped: …").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from partners.models import WebhookAttempt, WebhookDelivery
from partners.partition_migrations import is_partitioned
from partners.partitions import (
    month_partition_name,
    month_partitions,
    month_partitions_create,
    month_partitions_detach,
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
    than that which are left, with their attempts. Idempotent."""
    day = today or timezone.now().date()
    cutoff = day - timedelta(days=settings.SANPO_WEBHOOK_DELIVERY_RETENTION_DAYS)
    created: list[str] = []
    dropped: list[str] = []
    if _partitioned():
        # Deliveries first: an attempt's month is its delivery's.
        for table, column in ((DELIVERIES, "created_at"), (ATTEMPTS, "delivery_created_at")):
            created += month_partitions_create(
                table=table, column=column, months_ahead=PARTITION_MONTHS_AHEAD, today=day
            )
        dropped = _drop_expired_months(before=cutoff)
    deleted = _delete_expired_rows(before=datetime.combine(cutoff, datetime.min.time(), UTC))
    return DeliveryRetention(created, dropped, deleted)


def _partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        return is_partitioned(cursor, DELIVERIES)


def _drop_expired_months(*, before: date) -> list[str]:
    """Drop the month partitions of both tables that end on or before ``before`` and hold no
    pending delivery: a month's attempts and its deliveries in one transaction, attempts first,
    so neither goes without the other."""
    dropped: list[str] = []
    for month in month_partitions(DELIVERIES):
        if month.end > before or _holds_pending(month.name):
            continue
        attempts = month_partition_name(ATTEMPTS, month.start)
        with transaction.atomic():
            for table, name in ((ATTEMPTS, attempts), (DELIVERIES, month.name)):
                dropped += month_partitions_detach(
                    table=table,
                    before=month.end,
                    drop=True,
                    keep=_all_but(name),
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


def _delete_expired_rows(*, before: datetime) -> int:
    """Delete the finished deliveries created before ``before`` and their attempts, a batch
    per transaction. Returns how many deliveries."""
    expired = WebhookDelivery.objects.filter(created_at__lt=before).exclude(
        state=WebhookDelivery.State.PENDING
    )
    deleted = 0
    while batch := list(expired.order_by().values_list("pk", flat=True)[:DELETE_BATCH]):
        with transaction.atomic():
            WebhookAttempt.objects.filter(
                delivery_id__in=batch, delivery_created_at__lt=before
            ).delete()
            WebhookDelivery.objects.filter(pk__in=batch, created_at__lt=before).delete()
        deleted += len(batch)
    if deleted:
        logger.info("webhook deliveries deleted past their retention: %d", deleted)
    return deleted
