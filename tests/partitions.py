"""What the partition tests ask PostgreSQL (README, "Partitioning"): which partition a row is
in, which partitions a table has, and the months they are named by."""

from datetime import UTC, date, datetime
from typing import Any

from django.db import connection

from partners.partitions import month_partition_name, next_month


def partition_of(table: str, value: Any, column: str = "id") -> str:
    """The partition holding the row of ``table`` whose ``column`` is ``value``."""
    with connection.cursor() as cursor:
        query = f"SELECT tableoid::regclass::text FROM {table} WHERE {column} = %s"  # noqa: S608
        cursor.execute(query, [value])
        return str(cursor.fetchone()[0])


def partitions(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass",
            [table],
        )
        return {row[0] for row in cursor.fetchall()}


def month_of(day: date, ahead: int = 0) -> date:
    """The first day of ``day``'s month, or of the month ``ahead`` months after it."""
    month = day.replace(day=1)
    for _ in range(ahead):
        month = next_month(month)
    return month


def month_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def partition_name(table: str, month: date) -> str:
    return month_partition_name(table, month)


def check_deferred_now() -> None:
    """Run the deferred foreign-key checks now, as a commit would."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def partition_key_and_primary_key(table: str) -> tuple[str, list[str]]:
    """``RANGE (<column>)`` of a partitioned table, and its primary key's columns, sorted."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_partkeydef(%s::regclass), "
            "(SELECT array_agg(a.attname ORDER BY a.attname) FROM pg_index i "
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            " WHERE i.indrelid = %s::regclass AND i.indisprimary)",
            [table, table],
        )
        key, primary_key = cursor.fetchone()
        return str(key), list(primary_key)
