"""The one question every feature asks at the moment it uses member data: may this member's
data be used for this purpose by this recipient now? Five forms of one rule (``consent.rule``):
the single check (cached or from the database), the batch check, the consenting states and the
SQL condition for set-based work."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import psycopg
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from consent import check_cache, rule
from consent.models import (
    ConsentState,
    PrivacyNotice,
)
from consent.rule import Decision
from consent.selectors.notices import current_conditions
from partners.models import MemberAccount, Partner


def _moment(at: datetime | None) -> rule.Moment:
    at = at or timezone.now()
    return rule.Moment(at=at, conditions=current_conditions(at=at))


def consent_check(
    *,
    member_id: uuid.UUID,
    purpose_code: str,
    recipient: Partner,
    at: datetime | None = None,
) -> Decision:
    """May member ``member_id``'s data be used for ``purpose_code`` by ``recipient`` now?

    Every feature asks this at the moment of use. Outside a transaction the answer comes from
    this process's cache, which PostgreSQL keeps current (``consent.check_cache``); inside one,
    or without a listening cache, it is one prepared round trip reading the member's state, the
    member's and the recipient's status and the notice in force together. Use
    ``consent_check_many`` for many members at once.
    """
    at = at or timezone.now()
    if not connection.in_atomic_block and check_cache.cache.usable():
        return _check_cached(member_id, purpose_code, recipient.pk, at)
    row = _fetch_one(_CHECK_SQL, [at, member_id, purpose_code, recipient.pk])
    if row is None:
        # No state; the notice in force does not matter then.
        return rule.decide(None, rule.Moment(at=at, conditions=None))
    granted, expires_at, notice_conditions, member_status, recipient_status, current = row
    facts = rule.Facts(
        granted=bool(granted),
        expires_at=_aware(expires_at) if expires_at is not None else None,
        notice_conditions=notice_conditions,
        member_status=member_status,
        recipient_status=recipient_status,
    )
    return rule.decide(facts, rule.Moment(at=at, conditions=current))


def _fetch_one(sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        # A server-binding cursor, so PostgreSQL keeps the plan (Django's cursors bind on the
        # client and re-plan every time): this is what makes single checks cheap.
        with psycopg.Cursor(connection.connection) as raw:
            raw.execute(sql, params, prepare=True)
            row: tuple[Any, ...] | None = raw.fetchone()
            return row
    with connection.cursor() as cursor:
        cursor.execute(sql, [_sqlite(value) for value in params])
        row = cursor.fetchone()
        return row


def _check_cached(
    member_id: uuid.UUID, purpose_code: str, recipient_id: uuid.UUID, at: datetime
) -> Decision:
    cache = check_cache.cache
    generation = cache.generation  # before any read, so a read that raced a change is dropped
    recipients, notices = cache.recipients(), cache.notices()
    if recipients is None or notices is None:
        recipients = dict(Partner.objects.values_list("pk", "status"))
        notices = sorted(
            PrivacyNotice.objects.values_list("effective_at", "version", "conditions_sha256"),
            key=lambda notice: notice[1],
            reverse=True,
        )
        cache.store_tables(recipients, notices, generation=generation)
    row = cache.state(member_id, purpose_code, recipient_id)
    if row is check_cache.MISSING:
        found = _fetch_one(_STATE_SQL, [member_id, purpose_code, recipient_id])
        row = (
            (bool(found[0]), _aware(found[1]) if found[1] else None, found[2], found[3])
            if found is not None
            else None
        )
        cache.store_state(member_id, purpose_code, recipient_id, row, generation=generation)
    # The notice in force is the newest version already effective (as in _CHECK_SQL).
    current = next((sha for effective_at, _, sha in notices if effective_at <= at), None)
    moment = rule.Moment(at=at, conditions=current)
    if row is None:
        return rule.decide(None, moment)
    granted, expires_at, notice_conditions, member_status = row
    facts = rule.Facts(
        granted=granted,
        expires_at=expires_at,
        notice_conditions=notice_conditions,
        member_status=member_status,
        recipient_status=recipients.get(recipient_id, ""),
    )
    return rule.decide(facts, moment)


_STATE_SQL = f"""
    SELECT state.granted, state.expires_at, notice.conditions_sha256, member.status
    FROM {ConsentState._meta.db_table} state
    JOIN {MemberAccount._meta.db_table} member ON member.id = state.member_id
    LEFT JOIN {PrivacyNotice._meta.db_table} notice ON notice.id = state.notice_id
    WHERE state.member_id = %s AND state.purpose_id = %s AND state.recipient_id = %s
"""  # noqa: S608 - table names are constants; values are parameters

_CHECK_SQL = f"""
    SELECT state.granted, state.expires_at, notice.conditions_sha256, member.status,
           recipient.status,
           (SELECT conditions_sha256 FROM {PrivacyNotice._meta.db_table}
            WHERE effective_at <= %s ORDER BY version DESC LIMIT 1)
    FROM {ConsentState._meta.db_table} state
    JOIN {MemberAccount._meta.db_table} member ON member.id = state.member_id
    JOIN {Partner._meta.db_table} recipient ON recipient.id = state.recipient_id
    LEFT JOIN {PrivacyNotice._meta.db_table} notice ON notice.id = state.notice_id
    WHERE state.member_id = %s AND state.purpose_id = %s AND state.recipient_id = %s
"""  # noqa: S608 - table names are constants; values are parameters


def _sqlite(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _aware(value: datetime | str) -> datetime:
    # SQLite hands back UTC as naive datetimes (or text); PostgreSQL gives aware ones.
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def consent_check_many(
    *,
    member_ids: Iterable[uuid.UUID],
    purpose_code: str,
    recipient: Partner,
    at: datetime | None = None,
) -> dict[uuid.UUID, Decision]:
    """The same question for many members at once: the notice in force, then one query."""
    moment = _moment(at)
    ids = list(member_ids)
    query = ConsentState.objects.filter(
        member_id__in=ids, purpose_id=purpose_code, recipient=recipient
    ).values_list(
        "member_id",
        "granted",
        "expires_at",
        "notice__conditions_sha256",
        "member__status",
        "recipient__status",  # read now, not from the caller's possibly stale object
    )
    facts = {
        member_id: rule.Facts(granted, expires_at, conditions, member_status, recipient_status)
        for member_id, granted, expires_at, conditions, member_status, recipient_status in query
    }
    return {member_id: rule.decide(facts.get(member_id), moment) for member_id in ids}


def consenting_states(
    *, purpose_code: str, recipient: Partner, at: datetime | None = None
) -> QuerySet[ConsentState]:
    """The consent states in force for ``purpose_code`` and ``recipient`` at ``at`` (the rule
    of ``consent.rule``, as a filter), for set-based features (bulk enrollment, campaign
    targeting) to filter on or to join members through."""
    return ConsentState.objects.filter(
        rule.in_force_q(_moment(at)), purpose_id=purpose_code, recipient_id=recipient.pk
    ).order_by()


def consent_in_force_sql(
    *, member_column: str, purpose_code: str, recipient: Partner, at: datetime | None = None
) -> tuple[str, list[Any]]:
    """``consent.rule.in_force_sql``: the rule as an SQL condition on ``member_column``, for
    raw set-based queries. The member's own status is the caller's to check."""
    return rule.in_force_sql(
        member_column=member_column,
        purpose_code=purpose_code,
        recipient=recipient,
        moment=_moment(at),
    )


def consented_member_ids(
    *, purpose_code: str, recipient: Partner, at: datetime | None = None
) -> QuerySet[ConsentState, uuid.UUID]:
    """The ids of the members whose consent is in force (``consenting_states``), as a
    subquery."""
    states = consenting_states(purpose_code=purpose_code, recipient=recipient, at=at)
    return states.values_list("member_id", flat=True)
