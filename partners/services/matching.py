"""Link member accounts to persons by blind index, in set-based SQL.

Two accounts of the same kind are believed to be one person when their normalised e-mails are
equal, or when their phone numbers are equal and at most one of them has an e-mail: a phone is
often shared by a household, an e-mail rarely. Equality shows as equal blind indexes under the
same index key. Matching works on the accounts that have no person yet (new, or whose e-mail,
phone or kind changed):

1. attach them to an existing person that shares their e-mail, then (as above) their phone;
2. give each group of still-unlinked accounts sharing an e-mail a new person, attach the
   e-mail-less ones sharing a phone with a linked account, then group the rest by phone;
3. give every account left (no e-mail, no phone, no match) a person of its own.

Each step is one statement over all rows concerned, never a Python loop over accounts, so it
costs a few index joins whether a thousand or a million accounts arrive. Chains that only an
account linked in the same step could bridge (A shares an e-mail with B, B a phone with C) may
produce two persons; they would need a merge that no flow asks for yet.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from partners.models import MemberAccount, Person

_MEMBER = MemberAccount._meta.db_table
_PERSON = Person._meta.db_table


def new_uuid_sql() -> str:
    """SQL for a fresh id in bulk inserts.

    On PostgreSQL the id starts with the clock in milliseconds (then 80 random bits), like a
    UUIDv7: a million inserted rows then land at the right edge of the primary-key and
    foreign-key indexes instead of on random pages all over them, which is what makes bulk
    inserts slow once those indexes outgrow shared buffers.
    """
    if connection.vendor == "postgresql":
        return (
            "(lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0')"
            " || substr(replace(gen_random_uuid()::text, '-', ''), 13))::uuid"
        )
    # Django keeps UUIDs as 32 hex characters on SQLite.
    return "lower(hex(randomblob(16)))"


def _min_person_id() -> str:
    # PostgreSQL has no min(uuid); any one deterministic choice will do.
    if connection.vendor == "postgresql":
        return "MIN(linked.person_id::text)::uuid"
    return "MIN(linked.person_id)"


class _Target:
    """Rows to give persons (``table``, keyed by ``key``), and the already linked accounts
    they may join (``linked``: a query yielding kind, index_key_id, email_index, phone_index
    and person_id). Both tables name their columns like the member table does."""

    def __init__(self, *, table: str, key: str, linked: str, singles_where: str) -> None:
        self.table = table
        self.key = key
        self.linked = linked
        self.singles_where = singles_where


def _attach_to_existing(cursor: Any, target: _Target, index: str) -> None:
    # A phone only links an account to a person none of whose accounts has another e-mail.
    guard = (
        f"""AND (unlinked.email_index IS NULL OR NOT EXISTS (
                SELECT 1 FROM ({target.linked}) other
                WHERE other.person_id = linked.person_id
                  AND other.email_index IS NOT NULL
                  AND (other.email_index <> unlinked.email_index
                       OR other.index_key_id <> unlinked.index_key_id)))"""
        if index == "phone_index"
        else ""
    )
    cursor.execute(
        f"""
        UPDATE {target.table} SET person_id = found.person_id
        FROM (
            SELECT unlinked.{target.key} AS match_id, {_min_person_id()} AS person_id
            FROM {target.table} unlinked
            JOIN ({target.linked}) linked
              ON linked.index_key_id = unlinked.index_key_id
             AND linked.{index} = unlinked.{index}
             AND linked.kind = unlinked.kind
             {guard}
            WHERE unlinked.person_id IS NULL AND unlinked.{index} IS NOT NULL
            GROUP BY unlinked.{target.key}
        ) AS found
        WHERE {target.table}.{target.key} = found.match_id
        """
    )


def _group_into_new_persons(
    cursor: Any, target: _Target, key_sql: str, where_sql: str, now: Any
) -> int:
    """One new person per distinct ``key_sql`` among unlinked rows matching ``where_sql``."""
    cursor.execute("DROP TABLE IF EXISTS sanpo_new_person")
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE sanpo_new_person AS
        SELECT grouped.match_key AS match_key, {new_uuid_sql()} AS person_id
        FROM (
            SELECT DISTINCT {key_sql} AS match_key FROM {target.table}
            WHERE person_id IS NULL AND {where_sql}
        ) AS grouped
        """
    )
    cursor.execute(
        f"INSERT INTO {_PERSON} (id, created_at) SELECT person_id, %s FROM sanpo_new_person",
        [now],
    )
    created = int(cursor.rowcount)
    if created:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE INDEX ON sanpo_new_person (match_key)")
            cursor.execute("ANALYZE sanpo_new_person")
        cursor.execute(
            f"""
            UPDATE {target.table} SET person_id = sanpo_new_person.person_id
            FROM sanpo_new_person
            WHERE {target.table}.person_id IS NULL AND {where_sql}
              AND sanpo_new_person.match_key = {key_sql}
            """
        )
    cursor.execute("DROP TABLE sanpo_new_person")
    return created


def _key(index: str) -> str:
    """A match key that keeps kinds and index keys apart (one text value, indexable)."""
    if connection.vendor == "postgresql":
        return f"kind || ':' || index_key_id || ':' || encode({index}, 'hex')"
    return f"kind || ':' || index_key_id || ':' || hex({index})"


def _link(target: _Target) -> int:
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        _attach_to_existing(cursor, target, "email_index")
        _attach_to_existing(cursor, target, "phone_index")
        created = _group_into_new_persons(
            cursor, target, _key("email_index"), "email_index IS NOT NULL", now
        )
        _attach_to_existing(cursor, target, "phone_index")
        created += _group_into_new_persons(
            cursor, target, _key("phone_index"), "phone_index IS NOT NULL", now
        )
        created += _group_into_new_persons(cursor, target, target.key, target.singles_where, now)
    return created


_LINKED_COLUMNS = "kind, index_key_id, email_index, phone_index, person_id"


def link_unlinked_members() -> int:
    """Give every unlinked, unerased account a person. Returns how many persons were created.

    Call inside the transaction that wrote the accounts, so nobody sees them half-linked.
    """
    return _link(
        _Target(
            table=_MEMBER,
            key="id",
            linked=f"SELECT {_LINKED_COLUMNS} FROM {_MEMBER} WHERE person_id IS NOT NULL",
            singles_where=f"status <> '{MemberAccount.Status.ERASED}'",
        )
    )


def link_staged_rows(table: str) -> int:
    """Give persons to the rows of a narrow link table before they are inserted as accounts.

    ``table`` has columns line (unique), kind, index_key_id, email_index, phone_index and
    person_id; rows that already have a person keep it. The rows may join persons of existing
    accounts or of each other. Matching here, on narrow rows, spares rewriting every wide,
    heavily indexed member row a second time after a bulk insert. Returns persons created.
    """
    return _link(
        _Target(
            table=table,
            key="line",
            linked=(
                f"SELECT {_LINKED_COLUMNS} FROM {_MEMBER} WHERE person_id IS NOT NULL "
                f"UNION ALL SELECT {_LINKED_COLUMNS} FROM {table} WHERE person_id IS NOT NULL"
            ),
            singles_where="true",
        )
    )
