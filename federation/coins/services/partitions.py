"""The monthly partitions of the coin ledger's entries (README, "Partitioning")."""

from __future__ import annotations

from datetime import date
from functools import partial

from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from federation.coins.models import CoinEntry
from partners.partitions import LOCK_TIMEOUT, month_partitions, next_month, with_lock_retries
from partners.partitions import month_partitions_create as create

# How many months past this one always have their partition.
PARTITION_MONTHS_AHEAD = 3
APPEND_ONLY = "sanpo_coins_entry_append_only"  # the trigger of migration 0005


def coin_entry_partitions_maintain(*, today: date | None = None) -> list[str]:
    """Create this month's and the next PARTITION_MONTHS_AHEAD months' partitions of the coin
    entries if missing (the daily task); returns the names created. Nothing is ever detached:
    entries are never deleted (a correction is a reversal) and the balances are their sum.
    Nothing on a database without partitions (SQLite)."""
    if connection.vendor != "postgresql":
        return []
    day = today or timezone.now().date()
    table = CoinEntry._meta.db_table
    existing = {partition.start for partition in month_partitions(table)}
    month, missing = day.replace(day=1), False
    for _ in range(PARTITION_MONTHS_AHEAD + 1):
        missing |= month not in existing
        month = next_month(month)
    if not missing:
        return []
    return with_lock_retries(partial(_create_months, table, day))


def _create_months(table: str, day: date) -> list[str]:
    parent, default = sql.Identifier(table), sql.Identifier(f"{table}_default")
    trigger = sql.Identifier(APPEND_ONLY)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        # A new month's entries already in the default partition move into it, a DELETE there
        # that the append-only trigger refuses: it is set aside for this one transaction, with
        # the parent locked first (the order inserts take them in), so no other change slips in.
        cursor.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(parent))
        cursor.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(default, trigger))
        created = create(
            table=table, column="posted_at", months_ahead=PARTITION_MONTHS_AHEAD, today=day
        )
        cursor.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(default, trigger))
    return created
