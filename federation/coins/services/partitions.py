"""The monthly partitions of the coin ledger's entries (README, "Partitioning")."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.utils import timezone

from federation.coins.models import CoinEntry
from partners.partitions import month_partitions_create

# How many months past this one always have their partition.
PARTITION_MONTHS_AHEAD = 3


def coin_entry_partitions_maintain(*, today: date | None = None) -> list[str]:
    """Create this month's and the next PARTITION_MONTHS_AHEAD months' partitions of the coin
    entries if missing (the daily task); returns the names created. Nothing is ever detached:
    entries are never deleted (a correction is a reversal) and the balances are their sum.
    Nothing on a database without partitions (SQLite)."""
    if connection.vendor != "postgresql":
        return []
    return month_partitions_create(
        table=CoinEntry._meta.db_table,
        column="posted_at",
        months_ahead=PARTITION_MONTHS_AHEAD,
        today=today or timezone.now().date(),
    )
