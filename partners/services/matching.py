"""Link member accounts to persons by blind index, in set-based SQL.

Two accounts of the same kind are believed to be one person when their normalised e-mails are
equal, or when they share a phone number and cannot disagree on e-mail: a phone is often shared
by a household, an e-mail rarely. Equality shows as equal blind indexes under the same index
key. A phone links only when exactly one person already holds it, when at most one e-mail is
involved, and when it is not a switchboard or placeholder number (held by more than
``PHONE_SHARE_LIMIT`` accounts). Matching works on the accounts that have no person yet (new,
or whose e-mail, phone or kind changed):

1. attach them to an existing person that shares their e-mail, then (as above) their phone;
2. give each group of still-unlinked accounts sharing an e-mail a new person, attach the
   e-mail-less ones by phone, then group the rest by phone;
3. give every account left (no e-mail, no usable phone, no match) a person of its own.

Each step is a few statements over all rows concerned (grouping first, so a phone shared by
thousands costs one group, not thousands squared), never a Python loop over accounts. Chains
that only an account linked in the same step could bridge (A shares an e-mail with B, B a
phone with C) may produce two persons; they would need a merge that no flow asks for yet.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from partners.models import MemberAccount, Person

_MEMBER = MemberAccount._meta.db_table
_PERSON = Person._meta.db_table
# More accounts than this on one phone number is a company switchboard or a placeholder such
# as 03-0000-0000, not a household: such a phone links nobody.
PHONE_SHARE_LIMIT = 10


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


def _min_uuid(column: str) -> str:
    # PostgreSQL has no min(uuid); any one deterministic choice will do.
    if connection.vendor == "postgresql":
        return f"MIN({column}::text)::uuid"
    return f"MIN({column})"


class _Target:
    """Rows to give persons (``table``, keyed by ``key``), and the already linked accounts
    they may join (``linked``: a query yielding kind, index_key_id, email_index, phone_index
    and person_id). Both tables name their columns like the member table does."""

    def __init__(self, *, table: str, key: str, linked: str, singles_where: str) -> None:
        self.table = table
        self.key = key
        self.linked = linked
        self.singles_where = singles_where


def _attach_by_email(cursor: Any, target: _Target) -> None:
    cursor.execute(
        f"""
        UPDATE {target.table} SET person_id = found.person_id
        FROM (
            SELECT unlinked.{target.key} AS match_id, {_min_uuid("linked.person_id")} AS person_id
            FROM {target.table} unlinked
            JOIN ({target.linked}) linked
              ON linked.index_key_id = unlinked.index_key_id
             AND linked.email_index = unlinked.email_index
             AND linked.kind = unlinked.kind
            WHERE unlinked.person_id IS NULL AND unlinked.email_index IS NOT NULL
            GROUP BY unlinked.{target.key}
        ) AS found
        WHERE {target.table}.{target.key} = found.match_id
        """
    )


_PHONE_KEY = "kind, index_key_id, phone_index"
_SAME_PHONE = (
    "{a}.kind = {b}.kind AND {a}.index_key_id = {b}.index_key_id "
    "AND {a}.phone_index = {b}.phone_index"
)


def _attach_by_phone(cursor: Any, target: _Target) -> None:
    """Attach unlinked accounts to the one person already holding their phone number."""
    for table in ("sanpo_phone", "sanpo_phone_person", "sanpo_person_with_email"):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
    # The phones of unlinked accounts: how many accounts, and how many distinct e-mails.
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE sanpo_phone AS
        SELECT {_PHONE_KEY}, COUNT(*) AS accounts, COUNT(DISTINCT email_index) AS emails
        FROM {target.table}
        WHERE person_id IS NULL AND phone_index IS NOT NULL
        GROUP BY {_PHONE_KEY}
        """
    )
    # The persons already holding each of those phones.
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE sanpo_phone_person AS
        SELECT {", ".join(f"phone.{name}" for name in ("kind", "index_key_id", "phone_index"))},
               phone.emails, {_min_uuid("linked.person_id")} AS person_id,
               COUNT(DISTINCT linked.person_id) AS persons, COUNT(*) + phone.accounts AS holders
        FROM sanpo_phone phone
        JOIN ({target.linked}) linked ON {_SAME_PHONE.format(a="linked", b="phone")}
        GROUP BY phone.kind, phone.index_key_id, phone.phone_index, phone.emails,
                 phone.accounts
        """
    )
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE sanpo_person_with_email AS
        SELECT DISTINCT linked.person_id AS person_id
        FROM sanpo_phone_person holder
        JOIN ({target.linked}) linked ON linked.person_id = holder.person_id
        WHERE linked.email_index IS NOT NULL
        """
    )
    cursor.execute(
        f"""
        UPDATE {target.table} SET person_id = holder.person_id
        FROM sanpo_phone_person holder
        WHERE {target.table}.person_id IS NULL
          AND {_SAME_PHONE.format(a=target.table, b="holder")}
          AND holder.persons = 1
          AND holder.holders <= {PHONE_SHARE_LIMIT}
          AND ({target.table}.email_index IS NULL OR (
                holder.emails = 1
                AND holder.person_id NOT IN (SELECT person_id FROM sanpo_person_with_email)))
        """
    )
    for table in ("sanpo_phone", "sanpo_phone_person", "sanpo_person_with_email"):
        cursor.execute(f"DROP TABLE {table}")


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
    # Not grouped into one person: phones too widely shared among the unlinked accounts.
    not_crowded = (
        "phone_index IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sanpo_crowded_phone crowded "
        f"WHERE {_SAME_PHONE.format(a='crowded', b=target.table)})"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        _attach_by_email(cursor, target)
        _attach_by_phone(cursor, target)
        created = _group_into_new_persons(
            cursor, target, _key("email_index"), "email_index IS NOT NULL", now
        )
        _attach_by_phone(cursor, target)
        cursor.execute("DROP TABLE IF EXISTS sanpo_crowded_phone")
        cursor.execute(
            f"""
            CREATE TEMPORARY TABLE sanpo_crowded_phone AS
            SELECT {_PHONE_KEY} FROM {target.table}
            WHERE person_id IS NULL AND phone_index IS NOT NULL
            GROUP BY {_PHONE_KEY} HAVING COUNT(*) > {PHONE_SHARE_LIMIT}
            """
        )
        created += _group_into_new_persons(cursor, target, _key("phone_index"), not_crowded, now)
        cursor.execute("DROP TABLE sanpo_crowded_phone")
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


def merge_persons_split_by_a_race(*, since: datetime.datetime) -> int:
    """Merge persons that share an e-mail, among accounts written since ``since``.

    Two transactions that create accounts with one e-mail at the same moment cannot see each
    other's rows, so each gives its account a new person. A periodic task runs this to make
    them one: every account of the later persons moves to the earliest, and the emptied
    persons are deleted. Returns how many persons were merged away.
    """
    merged = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for _ in range(5):  # a merge can reveal another; chains are short
            for table in ("sanpo_split", "sanpo_person_merge"):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(
                f"""
                CREATE TEMPORARY TABLE sanpo_split AS
                SELECT m.kind, m.index_key_id, m.email_index, {_min_uuid("m.person_id")} AS keep
                FROM {_MEMBER} m
                JOIN (
                    SELECT DISTINCT kind, index_key_id, email_index FROM {_MEMBER}
                    WHERE updated_at >= %s AND email_index IS NOT NULL
                ) recent
                  ON recent.kind = m.kind AND recent.index_key_id = m.index_key_id
                 AND recent.email_index = m.email_index
                WHERE m.person_id IS NOT NULL
                GROUP BY m.kind, m.index_key_id, m.email_index
                HAVING COUNT(DISTINCT m.person_id) > 1
                """,
                [since],
            )
            cursor.execute(
                f"""
                CREATE TEMPORARY TABLE sanpo_person_merge AS
                SELECT m.person_id AS old_id, {_min_uuid("split.keep")} AS new_id
                FROM {_MEMBER} m
                JOIN sanpo_split split
                  ON split.kind = m.kind AND split.index_key_id = m.index_key_id
                 AND split.email_index = m.email_index
                WHERE m.person_id <> split.keep
                GROUP BY m.person_id
                """
            )
            cursor.execute("SELECT COUNT(*) FROM sanpo_person_merge")
            found = int(cursor.fetchone()[0])
            if not found:
                break
            cursor.execute(
                f"""
                UPDATE {_MEMBER} SET person_id = sanpo_person_merge.new_id
                FROM sanpo_person_merge WHERE {_MEMBER}.person_id = sanpo_person_merge.old_id
                """
            )
            cursor.execute(
                f"DELETE FROM {_PERSON} WHERE id IN (SELECT old_id FROM sanpo_person_merge)"
            )
            merged += found
        for table in ("sanpo_split", "sanpo_person_merge"):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
    return merged


def member_person(member: MemberAccount) -> Person:
    """The person ``member`` is believed to be: the one matching gave it, or, for an account
    matching has not linked (no e-mail or phone to match on), a person of its own, linked now
    under the account's row lock so two callers racing link one."""
    if member.person_id is not None:
        return Person(pk=member.person_id)
    with transaction.atomic():
        locked = MemberAccount.objects.select_for_update().get(pk=member.pk)
        if locked.person_id is None:
            locked.person = Person.objects.create()
            locked.save(update_fields=["person"])
        member.person_id = locked.person_id
    return Person(pk=locked.person_id)
