"""The clicks' monthly partitions on PostgreSQL (README, "Partitioning"): months made ahead of
time, and a month past the retention (``SANPO_REFERRAL_CLICK_RETENTION_DAYS``) dropped whole
when no conversion names a click in it. A month a conversion does name stays, and the daily
purge (``retention``) deletes its other clicks row by row, as it does on SQLite."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from federation.referrals.audit import ReferralAuditAction
from federation.referrals.models import ReferralClick, ReferralConversion
from partners.actors import Actor
from partners.partitions import (
    month_partitions,
    month_partitions_create,
    month_partitions_detach,
    next_month,
)
from partners.services import audit_record

# How many months past this one always have their partition.
PARTITION_MONTHS_AHEAD = 3
TABLE = ReferralClick._meta.db_table


class PartitionChanges(NamedTuple):
    created: list[str]
    dropped: list[str]


def referral_click_partitions_maintain(*, today: date | None = None) -> PartitionChanges:
    """Create this month's partition of the clicks and the next PARTITION_MONTHS_AHEAD
    months' if missing; drop each month that ended at least SANPO_REFERRAL_CLICK_RETENTION_DAYS
    before ``today`` and whose clicks no conversion names (audited once per run that drops).
    Nothing on a database without partitions (SQLite)."""
    if connection.vendor != "postgresql":
        return PartitionChanges([], [])
    day = today or timezone.now().date()
    created = month_partitions_create(
        table=TABLE, column="at", months_ahead=PARTITION_MONTHS_AHEAD, today=day
    )
    before = day - timedelta(days=settings.SANPO_REFERRAL_CLICK_RETENTION_DAYS)
    starts = {partition.name: partition.start for partition in month_partitions(TABLE)}

    def named(partition: str) -> bool:
        start = starts[partition]
        return ReferralConversion.objects.filter(
            click_at__gte=_midnight(start), click_at__lt=_midnight(next_month(start))
        ).exists()

    dropped = month_partitions_detach(table=TABLE, before=before, drop=True, keep=named)
    if dropped:
        with transaction.atomic():
            audit_record(
                action=ReferralAuditAction.CLICKS_PURGED,
                actor=Actor.system(),
                detail={"months_dropped": dropped, "before": before.isoformat()},
            )
    return PartitionChanges(created, dropped)


def referral_click_months_create(*, first: date, last: date) -> list[str]:
    """Make sure every month from ``first`` to ``last`` has its partition (clicks loaded in
    bulk into past months, such as the benchmark's); returns those created."""
    if connection.vendor != "postgresql":
        return []
    months, month = 0, first.replace(day=1)
    while next_month(month) <= last:
        month, months = next_month(month), months + 1
    return month_partitions_create(table=TABLE, column="at", months_ahead=months, today=first)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)
