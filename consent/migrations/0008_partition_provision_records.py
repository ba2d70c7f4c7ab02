"""Range-partition the provision records by month of ``provided_at`` (README, "Partitioning").

PostgreSQL only; on SQLite (``make run``) this is a no-op and the table stays plain. Django's
view of the model does not change, so there are no state operations.

The partitioned table is built beside the old one, with its columns, defaults, checks, indexes
and foreign keys read from the catalogue, the rows copied in, the old table dropped and the new
one given its name, all in this migration's transaction (the table is locked meanwhile, so on a
large existing table this is a maintenance window). A partitioned table's primary key must hold
the partition key, so it becomes ``(id, provided_at)``: uniqueness of ``id`` alone can no longer
be declared, and rests on ``id`` being a fresh UUID (there is no sequence to keep). No foreign key
points into this table, which is what makes that possible.

The code is written out here rather than imported from ``partners.partitions`` so the migration
keeps doing today what it did when it was written.
"""

from datetime import UTC, date, datetime
from typing import Any

from django.db import migrations

TABLE = "consent_provisionrecord"
COLUMN = "provided_at"
MONTHS_AHEAD = 3  # consent.services.provisions.PARTITION_MONTHS_AHEAD at the time of writing


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _definitions(cursor: Any, table: str) -> tuple[str, list[str], list[tuple[str, str]]]:
    """The primary key's name, the CREATE INDEX statements of the other indexes, and the
    (name, definition) of the unique, exclusion and foreign-key constraints of ``table``."""
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
        [table],
    )
    (primary_key,) = cursor.fetchone()
    cursor.execute(
        """
        SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
        WHERE i.indrelid = %s::regclass AND NOT EXISTS (
            SELECT 1 FROM pg_constraint k
            WHERE k.conrelid = i.indrelid AND k.conindid = i.indexrelid
        )
        ORDER BY i.indexrelid
        """,
        [table],
    )
    indexes = [row[0].replace(" ON ONLY ", " ON ") for row in cursor.fetchall()]
    cursor.execute(
        """
        SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = %s::regclass AND contype IN ('f', 'u', 'x') ORDER BY oid
        """,
        [table],
    )
    return primary_key, indexes, list(cursor.fetchall())


def _rebuild(cursor: Any, *, partitioned: bool) -> None:
    """Rebuild TABLE partitioned by month (or, going back, plain), keeping its rows, names,
    indexes and constraints."""
    primary_key, indexes, constraints = _definitions(cursor, TABLE)
    old = f"{TABLE}_unpartitioned" if partitioned else f"{TABLE}_partitioned"
    cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
    tail = f" PARTITION BY RANGE ({COLUMN})" if partitioned else ""
    cursor.execute(
        f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS){tail}"
    )
    if partitioned:
        _create_partitions(cursor, old)
    cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {old}")  # noqa: S608 - constants
    cursor.execute(f"DROP TABLE {old} CASCADE")  # and, going back, its partitions
    key = f"id, {COLUMN}" if partitioned else "id"
    cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {primary_key} PRIMARY KEY ({key})")
    for statement in indexes:
        cursor.execute(statement)
    for name, definition in constraints:
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")


def _create_partitions(cursor: Any, old: str) -> None:
    """One partition for each month the rows fall in and for this month and MONTHS_AHEAD more
    (the daily task keeps that up), and a DEFAULT one for anything outside them."""
    month_of = f"date_trunc('month', {COLUMN} AT TIME ZONE 'UTC')::date"
    cursor.execute(f"SELECT DISTINCT {month_of} FROM {old}")  # noqa: S608 - constants
    months = {row[0] for row in cursor.fetchall()}
    month = datetime.now(UTC).date().replace(day=1)
    for _ in range(MONTHS_AHEAD + 1):
        months.add(month)
        month = _next_month(month)
    for month in sorted(months):
        cursor.execute(
            f"CREATE TABLE {TABLE}_p{month:%Y_%m} PARTITION OF {TABLE} "
            f"FOR VALUES FROM ('{month.isoformat()} 00:00+00') "
            f"TO ('{_next_month(month).isoformat()} 00:00+00')"
        )
    cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")


def _is_partitioned(cursor: Any) -> bool:
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = %s::regclass", [TABLE])
    return bool(cursor.fetchone()[0] == "p")


def partition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if not _is_partitioned(cursor):
            _rebuild(cursor, partitioned=True)


def unpartition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if _is_partitioned(cursor):
            _rebuild(cursor, partitioned=False)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0007_verbose_names_and_choice_labels"),
    ]

    operations = [
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
