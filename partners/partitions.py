"""Monthly range partitions of a PostgreSQL table (README, "Partitioning").

A table partitioned ``BY RANGE (<timestamptz column>)`` has one partition per calendar month in
UTC, named ``<table>_pYYYY_MM`` and holding ``[first of the month, first of the next)``, and a
``<table>_default`` partition for rows no month partition takes. These functions keep months
ahead of time and take whole months away once they are past their retention; only partitions
named that way are touched. They are idempotent, so a daily task can call them again and again.

Each partition change runs in its own short transaction with a lock timeout: a change waiting
behind a long read must not hold up every write queued behind it; it fails instead, and the next
day's run tries again (there are months of margin).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction
from psycopg import sql

logger = logging.getLogger(__name__)

LOCK_TIMEOUT = "5s"


@dataclass(frozen=True)
class MonthPartition:
    name: str
    start: date  # the first day of its month

    @property
    def end(self) -> date:
        return next_month(self.start)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y_%m}"


def month_partitions(table: str) -> list[MonthPartition]:
    """The month partitions of ``table``, oldest first."""
    pattern = re.compile(rf"{re.escape(table)}_p(\d{{4}})_(\d{{2}})")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [table],
        )
        names = [row[0] for row in cursor.fetchall()]
    found = [(pattern.fullmatch(name), name) for name in names]
    return sorted(
        (MonthPartition(name, date(int(m[1]), int(m[2]), 1)) for m, name in found if m),
        key=lambda partition: partition.start,
    )


def month_partitions_create(
    *, table: str, column: str, months_ahead: int, today: date
) -> list[str]:
    """Make sure ``table`` has a partition for the month of ``today`` and each of the
    ``months_ahead`` months after it. Rows of such a month already in the DEFAULT partition
    are moved into the new one. Returns the names of the partitions created."""
    existing = {partition.start for partition in month_partitions(table)}
    created = []
    month = today.replace(day=1)
    for _ in range(months_ahead + 1):
        if month not in existing:
            moved = _create(table=table, column=column, month=month)
            name = month_partition_name(table, month)
            logger.info("partition created: %s (%d rows moved from the default)", name, moved)
            created.append(name)
        month = next_month(month)
    return created


def month_partitions_detach(
    *, table: str, before: date, drop: bool, keep: Callable[[str], bool] | None = None
) -> list[str]:
    """Detach (and with ``drop`` drop) every month partition of ``table`` that ends on or
    before ``before``, so all its rows are older than that; skips one for which ``keep``
    (given its name) says it still holds rows to keep. Returns the names taken away."""
    taken = []
    for partition in month_partitions(table):
        if partition.end > before or (keep is not None and keep(partition.name)):
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            cursor.execute(
                sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(
                    sql.Identifier(table), sql.Identifier(partition.name)
                )
            )
            if drop:
                cursor.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(partition.name)))
        logger.info("partition %s: %s", "dropped" if drop else "detached", partition.name)
        taken.append(partition.name)
    return taken


def _create(*, table: str, column: str, month: date) -> int:
    """Create the partition of ``month``; returns how many rows came over from the default."""
    parent, part = sql.Identifier(table), sql.Identifier(month_partition_name(table, month))
    default = sql.Identifier(f"{table}_default")
    bounds = sql.SQL("FOR VALUES FROM ({}) TO ({})").format(
        sql.Literal(f"{month.isoformat()} 00:00+00"),
        sql.Literal(f"{next_month(month).isoformat()} 00:00+00"),
    )
    in_month = sql.SQL("{} >= {} AND {} < {}").format(
        sql.Identifier(column),
        sql.Literal(f"{month.isoformat()} 00:00+00"),
        sql.Identifier(column),
        sql.Literal(f"{next_month(month).isoformat()} 00:00+00"),
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        # The parent first, then the default, the order inserts take them in: no deadlock
        # with a writer, and no row can reach the default between the check and the move.
        cursor.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(parent))
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{table}_default"])
        has_default = cursor.fetchone()[0]
        moved = 0
        if has_default:
            cursor.execute(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(default, in_month))
            moved = cursor.fetchone()[0]
        if not moved:
            cursor.execute(
                sql.SQL("CREATE TABLE IF NOT EXISTS {} PARTITION OF {} {}").format(
                    part, parent, bounds
                )
            )
            return 0
        # Attaching a month the default holds rows of would fail: move them over first.
        cursor.execute(
            sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)").format(
                part, parent
            )
        )
        cursor.execute(
            sql.SQL(
                "WITH moved AS (DELETE FROM {} WHERE {} RETURNING *) "
                "INSERT INTO {} SELECT * FROM moved"
            ).format(default, in_month, part)
        )
        cursor.execute(
            sql.SQL("ALTER TABLE {} ATTACH PARTITION {} {}").format(parent, part, bounds)
        )
        return int(moved)
