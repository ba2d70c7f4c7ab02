"""Rebuild a table range-partitioned by month, for migrations (README, "Partitioning").

A migration that partitions a table calls ``partition_table`` (and ``unpartition_table`` going
back) from a ``RunPython`` on PostgreSQL; on SQLite it does nothing. The partitioned table is
built beside the old one, with its columns, defaults, checks, indexes and constraints read from
the catalogue, the rows copied in, the old table dropped and the new one given its name, all in
the migration's transaction (the table is locked meanwhile: a maintenance window on a large
table).

A partitioned table's primary key, unique constraints and unique indexes must hold the partition
key. The primary key becomes ``(<pk>, <column>)``. Any other unique constraint or index that
lacks the column makes ``partition_table`` fail, naming it: the migration must decide first
(the model drops it, or widens it, or keeps it in a verification instead). A foreign key into
the table would be dropped with the old table, so that fails too: the referencing model's key
must first lose its constraint (``db_constraint=False``), and the migration adds a composite
one on ``(<fk>, <copied column>)`` afterwards (``add_composite_foreign_key``).

What ``LIKE`` and the dropped old table do not carry over, the caller makes again: triggers
(``federation.0018`` remakes the ledger's), grants, comments, row-level security policies,
storage parameters and views on the table; none of the tables partitioned so far has any but
the ledger's triggers.

This module is frozen: migrations written against it must keep doing what they did, so change
it only by adding a new function.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def is_partitioned(cursor: Any, table: str) -> bool:
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = %s::regclass", [table])
    return bool(cursor.fetchone()[0] == "p")


def partition_table(cursor: Any, *, table: str, column: str, months_ahead: int) -> None:
    """Rebuild ``table`` partitioned by month of ``column``, keeping its rows, names, indexes
    and constraints, with a partition for every month its rows fall in, this month and
    ``months_ahead`` more, and a DEFAULT one. Does nothing if it is partitioned already."""
    if is_partitioned(cursor, table):
        return
    _refuse_foreign_keys_into(cursor, table)
    primary_key, pk_columns, indexes, constraints = _definitions(cursor, table)
    _refuse_unique_without(column, table, indexes, constraints)
    old = f"{table}_unpartitioned"
    cursor.execute(f"ALTER TABLE {table} RENAME TO {old}")
    cursor.execute(
        f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
        f"PARTITION BY RANGE ({column})"
    )
    _create_partitions(cursor, table=table, column=column, old=old, months_ahead=months_ahead)
    _move_rows_and_sequences(cursor, old=old, new=table)
    key = ", ".join([*pk_columns, column])
    cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {primary_key} PRIMARY KEY ({key})")
    _restore(cursor, table, indexes, constraints)


def unpartition_table(cursor: Any, *, table: str, column: str) -> None:
    """Going back: rebuild ``table`` as one plain table, its primary key without ``column``."""
    if not is_partitioned(cursor, table):
        return
    _refuse_foreign_keys_into(cursor, table)
    primary_key, pk_columns, indexes, constraints = _definitions(cursor, table)
    old = f"{table}_partitioned"
    cursor.execute(f"ALTER TABLE {table} RENAME TO {old}")
    cursor.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    _move_rows_and_sequences(cursor, old=old, new=table)
    key = ", ".join(name for name in pk_columns if name != column)
    cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {primary_key} PRIMARY KEY ({key})")
    _restore(cursor, table, indexes, constraints)


def add_composite_foreign_key(
    cursor: Any,
    *,
    table: str,
    name: str,
    columns: tuple[str, str],
    target: str,
    target_columns: tuple[str, str],
    on_delete: str = "NO ACTION",
) -> None:
    """A foreign key from ``table`` on two columns (the key and the copied partition column)
    to ``target``'s primary key (its id and partition column), deferrable like Django's."""
    cursor.execute(
        f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({', '.join(columns)}) "
        f"REFERENCES {target} ({', '.join(target_columns)}) ON DELETE {on_delete} "
        "DEFERRABLE INITIALLY DEFERRED"
    )
    cursor.execute(f"CREATE INDEX IF NOT EXISTS {name}_idx ON {table} ({', '.join(columns)})")


def drop_foreign_key(cursor: Any, *, table: str, name: str) -> None:
    cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")
    cursor.execute(f"DROP INDEX IF EXISTS {name}_idx")


def _refuse_foreign_keys_into(cursor: Any, table: str) -> None:
    cursor.execute(
        "SELECT conname, conrelid::regclass::text FROM pg_constraint "
        "WHERE confrelid = %s::regclass AND contype = 'f' AND conrelid <> confrelid",
        [table],
    )
    found = cursor.fetchall()
    if found:
        raise RuntimeError(
            f"Foreign keys point into {table} and would be dropped with it: {found}. "
            "Drop them first (db_constraint=False) and add composite ones after."
        )


def _definitions(
    cursor: Any, table: str
) -> tuple[str, list[str], list[str], list[tuple[str, str]]]:
    """The primary key's name and columns, the CREATE INDEX statements of the other indexes,
    and the (name, definition) of the unique, exclusion, check-free and foreign-key
    constraints of ``table``."""
    cursor.execute(
        "SELECT conname, array(SELECT attname FROM unnest(conkey) WITH ORDINALITY AS k(n, i) "
        "JOIN pg_attribute a ON a.attrelid = conrelid AND a.attnum = k.n ORDER BY k.i) "
        "FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
        [table],
    )
    primary_key, pk_columns = cursor.fetchone()
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
    return primary_key, list(pk_columns), indexes, list(cursor.fetchall())


def _refuse_unique_without(
    column: str, table: str, indexes: list[str], constraints: list[tuple[str, str]]
) -> None:
    lacking = [s for s in indexes if s.startswith("CREATE UNIQUE") and column not in s]
    lacking += [
        f"{name} {definition}"
        for name, definition in constraints
        if definition.startswith("UNIQUE") and column not in definition
    ]
    if lacking:
        raise RuntimeError(f"Unique keys of {table} lack the partition key {column}: {lacking}")


def _create_partitions(
    cursor: Any, *, table: str, column: str, old: str, months_ahead: int
) -> None:
    month_of = f"date_trunc('month', {column} AT TIME ZONE 'UTC')::date"
    cursor.execute(f"SELECT DISTINCT {month_of} FROM {old}")  # noqa: S608 - identifiers
    months = {row[0] for row in cursor.fetchall() if row[0] is not None}
    month = datetime.now(UTC).date().replace(day=1)
    for _ in range(months_ahead + 1):
        months.add(month)
        month = next_month(month)
    for month in sorted(months):
        cursor.execute(
            f"CREATE TABLE {table}_p{month:%Y_%m} PARTITION OF {table} "
            f"FOR VALUES FROM ('{month.isoformat()} 00:00+00') "
            f"TO ('{next_month(month).isoformat()} 00:00+00')"
        )
    cursor.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")


def _move_rows_and_sequences(cursor: Any, *, old: str, new: str) -> None:
    """Copy the rows, hand the old table's identity/serial sequences over to the new one and
    drop the old table (and, going back, its partitions)."""
    cursor.execute(
        "SELECT a.attname, pg_get_serial_sequence(%s, a.attname) FROM pg_attribute a "
        "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped "
        "AND pg_get_serial_sequence(%s, a.attname) IS NOT NULL",
        [old, old, old],
    )
    sequences = cursor.fetchall()
    cursor.execute(f"INSERT INTO {new} SELECT * FROM {old}")  # noqa: S608 - identifiers
    for column, sequence in sequences:
        cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608
        last_value, is_called = cursor.fetchone()
        cursor.execute(f"ALTER TABLE {old} ALTER COLUMN {column} DROP IDENTITY IF EXISTS")
        cursor.execute(f"ALTER TABLE {old} ALTER COLUMN {column} DROP DEFAULT")
        cursor.execute(f"ALTER TABLE {new} ALTER COLUMN {column} DROP DEFAULT")
        cursor.execute(
            f"ALTER TABLE {new} ALTER COLUMN {column} ADD GENERATED BY DEFAULT AS IDENTITY"
        )
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [new, column])
        (new_sequence,) = cursor.fetchone()
        cursor.execute("SELECT setval(%s, %s, %s)", [new_sequence, last_value, is_called])
    cursor.execute(f"DROP TABLE {old} CASCADE")


def _restore(
    cursor: Any, table: str, indexes: list[str], constraints: list[tuple[str, str]]
) -> None:
    for statement in indexes:
        cursor.execute(statement)
    for name, definition in constraints:
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
