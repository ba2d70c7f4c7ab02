"""Staging tables and the set-based apply shared by the bulk import and the bulk API.

Sealed rows are written into a staging table of their own (``COPY`` in binary on PostgreSQL,
``executemany`` on SQLite). Applying them is a few statements over all rows: duplicate and
conflict checks, person matching on a narrow link table, then one upsert into the member
accounts that leaves unchanged rows alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from partners import pii
from partners.models import MemberAccount, Partner
from partners.services.matching import link_staged_rows, new_uuid_sql
from partners.services.member_records import SEALED_COLUMNS

_MEMBER = MemberAccount._meta.db_table


class MergeCounts:
    def __init__(self, created: int, updated: int, unchanged: int) -> None:
        self.created = created
        self.updated = updated
        self.unchanged = unchanged


def apply_stage(stage: Stage, *, create_only: bool = False) -> tuple[MergeCounts, int]:
    """Give the staged rows persons, then upsert them into the partner's member accounts.

    Matching runs first, on a narrow table of just the match columns, so each account is
    written once, already linked; rows whose e-mail, phone and kind did not change keep the
    person they had. Rows whose fingerprint is unchanged are not touched (re-import is a
    no-op); erased accounts are never overwritten; with ``create_only`` existing accounts are
    never touched at all. Call inside a transaction. Returns the counts and the number of
    persons created.
    """
    partner = _db_uuid(stage.partner_id)
    same = "IS NOT DISTINCT FROM" if connection.vendor == "postgresql" else "IS"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {stage.link_table}")
        cursor.execute(
            f"""
            {stage.create_table} {stage.link_table} AS
            SELECT s.line, s.kind, s.index_key_id, s.email_index, s.phone_index, m.person_id
            FROM {stage.table} s
            LEFT JOIN {_MEMBER} m
              ON m.partner_id = %s AND m.member_number = s.member_number
             AND m.kind = s.kind AND m.index_key_id = s.index_key_id
             AND m.email_index {same} s.email_index AND m.phone_index {same} s.phone_index
            """,
            [partner],
        )
        # No indexes: matching rewrites most of these rows several times, and every join on
        # them is a hash join over the whole table anyway.
        if stage.postgres:
            cursor.execute(f"ANALYZE {stage.link_table}")
    persons = link_staged_rows(stage.link_table)
    return _merge(stage, partner, create_only=create_only), persons


def _merge(stage: Stage, partner: Any, *, create_only: bool) -> MergeCounts:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    new_id = new_uuid_sql()
    columns = ", ".join(SEALED_COLUMNS)
    selected = ", ".join(f"s.{name}" for name in SEALED_COLUMNS)
    updates = ", ".join(f"{name} = excluded.{name}" for name in SEALED_COLUMNS[1:])
    count = (
        "COUNT(*) FILTER (WHERE {})" if stage.postgres else "SUM(CASE WHEN {} THEN 1 ELSE 0 END)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT COUNT(*), {count.format("m.id IS NULL")},
                   {count.format("m.record_digest = s.record_digest")}
            FROM {stage.table} s
            LEFT JOIN {_MEMBER} m ON m.partner_id = %s AND m.member_number = s.member_number
            """,
            [partner],
        )
        total, created, unchanged = (int(n or 0) for n in cursor.fetchone())
        if create_only:
            # The import checked under the partner lock that none of these exist, but the
            # API can create one meanwhile: such a row is skipped, never overwritten.
            conflict = "DO NOTHING"
        else:
            conflict = f"""DO UPDATE SET {updates},
              person_id = excluded.person_id,
              updated_at = excluded.updated_at
            WHERE {_MEMBER}.record_digest <> excluded.record_digest
              AND {_MEMBER}.status <> '{MemberAccount.Status.ERASED}'"""
        # One lock order for concurrent bulk requests, so two writing the same new numbers in
        # different orders wait for each other instead of deadlocking. Imports skip the sort
        # (a million wide rows): they are serialised by the partner lock.
        order = "ORDER BY s.member_number" if stage.temporary else ""
        cursor.execute(
            f"""
            INSERT INTO {_MEMBER} (id, partner_id, {columns}, person_id, created_at, updated_at)
            SELECT {new_id}, %s, {selected}, l.person_id, %s, %s
            FROM {stage.table} s JOIN {stage.link_table} l ON l.line = s.line
            WHERE true {order}
            ON CONFLICT (partner_id, member_number) {conflict}
            """,
            [partner, now, now],
        )
        if create_only:
            created = int(cursor.rowcount)
            return MergeCounts(created=created, updated=0, unchanged=total - created)
    return MergeCounts(created=created, updated=total - created - unchanged, unchanged=unchanged)


def _db_uuid(value: uuid.UUID) -> Any:
    return MemberAccount._meta.get_field("id").get_db_prep_value(value, connection)


class Stage:
    """The staging and error tables of one import (plain tables, dropped when it ends)."""

    def __init__(self, *, name: uuid.UUID, partner_id: uuid.UUID, temporary: bool = False) -> None:
        # An import's tables outlive its transactions (it resumes); a bulk request's do not.
        self.temporary = temporary
        self.create_table = "CREATE TEMPORARY TABLE" if temporary else "CREATE TABLE"
        self.partner_id = partner_id
        self.table = f"sanpo_import_{name.hex}"
        self.errors_table = f"sanpo_import_errors_{name.hex}"
        self.link_table = f"sanpo_import_links_{name.hex}"
        self.postgres = connection.vendor == "postgresql"

    def _types(self) -> list[tuple[str, str]]:
        blob, text, integer, date = (
            ("bytea", "text", "integer", "date")
            if self.postgres
            else ("blob", "text", "integer", "text")
        )
        types = {"wrapped_key": blob, "email_index": blob, "phone_index": blob}
        types.update(record_digest=blob, birth_year=integer, joined_on=date, last_active_on=date)
        types.update({f"{name}_sealed": blob for name in pii.PERSONAL_FIELDS})
        return [("line", "bigint" if self.postgres else "integer")] + [
            (name, types.get(name, text)) for name in SEALED_COLUMNS
        ]

    def create(self) -> None:
        columns = ", ".join(f"{name} {kind}" for name, kind in self._types())
        with connection.cursor() as cursor:
            cursor.execute(f"{self.create_table} IF NOT EXISTS {self.table} ({columns})")
            cursor.execute(
                f"{self.create_table} IF NOT EXISTS {self.errors_table} "
                "(line bigint, column_name text, code text, message text)"
            )

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
            cursor.execute(f"DROP TABLE IF EXISTS {self.errors_table}")
            cursor.execute(f"DROP TABLE IF EXISTS {self.link_table}")

    def write_rows(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        names = [name for name, _ in self._types()]
        with connection.cursor() as cursor:
            if self.postgres:
                sql = f"COPY {self.table} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)"
                with cursor.cursor.copy(sql) as copy:
                    copy.set_types([kind for _, kind in self._types()])
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(names))
                cursor.executemany(
                    f"INSERT INTO {self.table} ({', '.join(names)}) VALUES ({marks})",
                    [_sqlite_row(row) for row in rows],
                )

    def write_errors(self, errors: list[tuple[int, str, str, str]]) -> None:
        if not errors:
            return
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {self.errors_table} (line, column_name, code, message) "
                "VALUES (%s, %s, %s, %s)",
                errors,
            )

    def report_duplicates_in_file(self) -> None:
        # One short message per line (the first line and the count, not every line), so a
        # file that repeats one number a million times stays a million short errors.
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {self.errors_table} (line, column_name, code, message)
                SELECT s.line, 'member_number', 'duplicate_in_file',
                       'Member number ' || s.member_number || ' appears ' || d.times
                       || ' times in the file (first on line ' || d.first_line || ').'
                FROM {self.table} s
                JOIN (
                    SELECT member_number, MIN(line) AS first_line, COUNT(*) AS times
                    FROM {self.table} GROUP BY member_number HAVING COUNT(*) > 1
                ) d ON d.member_number = s.member_number
                """
            )

    def report_existing(self, *, erased_only: bool) -> None:
        erased = MemberAccount.Status.ERASED
        condition = f"AND m.status = '{erased}'" if erased_only else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {self.errors_table} (line, column_name, code, message)
                SELECT s.line, 'member_number',
                       CASE WHEN m.status = '{erased}' THEN 'member_erased'
                            ELSE 'member_exists' END,
                       CASE WHEN m.status = '{erased}'
                            THEN 'Member number ' || s.member_number || ' was erased at the '
                                 || 'member''s request and cannot be imported again.'
                            ELSE 'Member number ' || s.member_number || ' already exists '
                                 || '(this import only creates new members).' END
                FROM {self.table} s
                JOIN {_MEMBER} m ON m.partner_id = %s AND m.member_number = s.member_number
                WHERE true {condition}
                """,
                [_db_uuid(self.partner_id)],
            )

    def count_invalid_lines(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(DISTINCT line) FROM {self.errors_table}")
            return int(cursor.fetchone()[0])

    def drop_invalid_rows(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {self.table} WHERE line IN (SELECT line FROM {self.errors_table})"
            )

    def iter_errors(self) -> Iterator[list[tuple[Any, ...]]]:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT line, column_name, code, message FROM {self.errors_table} "
                "ORDER BY line, column_name"
            )
            while batch := cursor.fetchmany(5000):
                yield list(batch)


def _sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(value.isoformat() if hasattr(value, "isoformat") else value for value in row)


def merge_member_rows(*, partner: Partner, rows: list[tuple[Any, ...]]) -> MergeCounts:
    """Upsert already sealed rows (``seal_member`` output) and link persons, in the caller's
    transaction: the bulk API's path, sharing the import's SQL."""
    stage = Stage(name=uuid.uuid4(), partner_id=partner.id, temporary=True)
    with transaction.atomic():
        stage.create()
        stage.write_rows([(line, *row) for line, row in enumerate(rows, start=1)])
        counts, _ = apply_stage(stage)
        stage.drop()
    return counts
