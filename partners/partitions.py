"""Monthly range partitions of a PostgreSQL table (README, "Partitioning").

A table partitioned ``BY RANGE (<timestamptz column>)`` has one partition per calendar month in
UTC, named ``<table>_pYYYY_MM`` and holding ``[first of the month, first of the next)``, and a
``<table>_default`` partition for rows no month partition takes. These functions keep months
ahead of time and take whole months away once they are past their retention; only partitions
named that way are touched. They are idempotent, so a daily task can call them again and again.

Each partition change runs in its own short transaction with a lock timeout shorter than
PostgreSQL's ``deadlock_timeout`` (1 s by default). A change locks the parent, then (creating a
partition copies the parent's foreign keys) the tables those keys name; a writer that has
written one of those and then writes the parent waits on the change while the change waits on
it. With the shorter timeout the change always gives up first, never the writer, and is tried
again a moment later (``with_lock_retries``); a change still refused after that fails, and the
next day's run tries again (there are months of margin). A change waiting behind a long read
likewise holds up the writes queued behind it for no longer than the timeout.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import TypeVar

from django.db import OperationalError, connection, transaction
from django.db.backends.utils import CursorWrapper
from psycopg import errors, sql

logger = logging.getLogger(__name__)

LOCK_TIMEOUT = "400ms"  # below deadlock_timeout: see the module's docstring
LOCK_ATTEMPTS = 10
LOCK_PAUSE = 1.0  # seconds between two attempts

T = TypeVar("T")


def with_lock_retries(change: Callable[[], T]) -> T:
    """Run ``change`` (one transaction that sets ``lock_timeout`` to LOCK_TIMEOUT) again
    while it gives up waiting for a lock, up to LOCK_ATTEMPTS times. Inside a transaction
    already, once only: the outermost transaction must be the one tried again, as the locks
    it holds are part of the wait."""
    attempts = 1 if connection.in_atomic_block else LOCK_ATTEMPTS
    for attempt in range(1, attempts + 1):
        try:
            return change()
        except OperationalError as exc:
            if attempt == attempts or not isinstance(exc.__cause__, errors.LockNotAvailable):
                raise
            logger.warning(
                "partition change gave way to a writer (attempt %d of %d)", attempt, attempts
            )
            time.sleep(LOCK_PAUSE)
    raise AssertionError("unreachable")


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
    *, table: str, column: str, months_ahead: int, today: date, move_referenced: bool = False
) -> list[str]:
    """Make sure ``table`` has a partition for the month of ``today`` and each of the
    ``months_ahead`` months after it. Rows of such a month already in the DEFAULT partition
    are moved into the new one; but where rows of other tables point to them by a foreign key,
    the move would break the key (it is checked against the default partition alone), so such
    a month is left to the default, its rows read and kept as before, and logged as an error,
    unless the caller has set the referencing rows aside (``move_referenced``). Returns the
    names of the partitions created."""
    existing = {partition.start for partition in month_partitions(table)}
    created = []
    month = today.replace(day=1)
    for _ in range(months_ahead + 1):
        if month not in existing:
            moved = with_lock_retries(
                partial(
                    _create,
                    table=table,
                    column=column,
                    month=month,
                    move_referenced=move_referenced,
                )
            )
            name = month_partition_name(table, month)
            if moved is None:
                logger.error(
                    "partition not created: %s; rows of its month are in the default partition "
                    "and other tables point to them (they stay there, read and kept as before)",
                    name,
                )
            else:
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
        with_lock_retries(partial(_detach, table, partition.name, drop=drop))
        logger.info("partition %s: %s", "dropped" if drop else "detached", partition.name)
        taken.append(partition.name)
    return taken


def _detach(table: str, name: str, *, drop: bool) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute(
            sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
        if drop:
            cursor.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))


def _referenced_in_default(cursor: CursorWrapper, table: str, column: str, month: date) -> bool:
    """Whether a row of another table points, by a foreign key, to a row of the month in the
    default partition of ``table``."""
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text,
          array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(n, i)
                JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
          array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(n, i)
                JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
        FROM pg_constraint c
        WHERE c.confrelid = %s::regclass AND c.contype = 'f' AND c.conparentid = 0
          AND c.conrelid <> c.confrelid
        """,
        [table],
    )
    in_month = sql.SQL("d.{} >= {} AND d.{} < {}").format(
        sql.Identifier(column),
        sql.Literal(f"{month.isoformat()} 00:00+00"),
        sql.Identifier(column),
        sql.Literal(f"{next_month(month).isoformat()} 00:00+00"),
    )
    default = sql.Identifier(f"{table}_default")
    for referencing, columns, targets in cursor.fetchall():
        pairs = sql.SQL(" AND ").join(
            sql.SQL("r.{} = d.{}").format(sql.Identifier(column), sql.Identifier(target))
            for column, target in zip(columns, targets, strict=True)
        )
        cursor.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {} r JOIN {} d ON {} WHERE {})").format(
                sql.SQL(referencing), default, pairs, in_month
            )
        )
        if cursor.fetchone()[0]:
            return True
    return False


def _create(*, table: str, column: str, month: date, move_referenced: bool) -> int | None:
    """Create the partition of ``month``; returns how many rows came over from the default,
    or None when it left the month alone (rows there that other tables point to)."""
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
        # The parent first, then the default, the order inserts take them in, so no row can
        # reach the default between the check and the move. Creating the partition then locks
        # the tables the parent's foreign keys name, which a writer may hold while it waits
        # for the parent: the lock timeout makes this change give way (module docstring).
        cursor.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(parent))
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{table}_default"])
        has_default = cursor.fetchone()[0]
        moved = 0
        if has_default:
            cursor.execute(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(default, in_month))
            moved = cursor.fetchone()[0]
        if moved and not move_referenced and _referenced_in_default(cursor, table, column, month):
            return None
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
