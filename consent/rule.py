"""What "consented now" means, defined once.

A member's data may be used for a purpose by a recipient at a moment when the member has a
consent state for that purpose and recipient and every condition of ``RULE`` holds, checked in
order; the first that fails is the reason given. Each condition names where its fact lives
(the recipient, the member, or the consent state), and states its test twice, side by side: in
Python over the facts one check reads, and as a ``Q`` over ``ConsentState`` for set-based work.
Every form of the check is derived from this one list:

- ``decide``: the single check (from the database or from the per-process cache) and the
  batch check read the facts, then ask this;
- ``in_force_q``: the filter of ``consenting_states`` (bulk enrollment, targeting);
- ``held_q`` and ``condition_q``: the grants a member still holds (given, not expired), in
  force or waiting for a new notice, and the state conditions one at a time: what the
  preference page lists and the compliance pages classify;
- ``in_force_sql``: the state conditions compiled by Django into an ``EXISTS`` for raw
  set-based queries (the overlap), with the recipient's status checked once and the member's
  own status left to the query's member row.

``tests/consent/test_consent_rule.py`` runs every form over the same generated cases and
requires the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import EmptyResultSet
from django.db.models import Q
from django.db.models.expressions import RawSQL

from consent.models import ConsentState
from partners.models import MemberAccount, Partner

Scope = Literal["recipient", "member", "state"]
NOT_CONSENTED = "not_consented"
CONSENTED = "consented"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # CONSENTED, NOT_CONSENTED, or the reason of the condition that failed

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True)
class Moment:
    """When the question is asked, and the conditions hash of the notice in force then (None
    when no notice is in force: then nothing is consented)."""

    at: datetime
    conditions: str | None


@dataclass(frozen=True)
class Facts:
    """What a check reads about one member's consent state for a purpose and a recipient."""

    granted: bool
    expires_at: datetime | None
    notice_conditions: str | None
    member_status: str
    recipient_status: str


@dataclass(frozen=True)
class Condition:
    reason: str
    scope: Scope
    holds: Callable[[Facts, Moment], bool]
    q: Callable[[Moment], Q]


def _notice_in_force(moment: Moment) -> Q:
    if moment.conditions is None:
        return Q(pk__in=[])  # no notice in force: nothing is consented
    return Q(notice__conditions_sha256=moment.conditions)


RULE: tuple[Condition, ...] = (
    Condition(
        "recipient_unavailable",
        "recipient",
        lambda facts, _: facts.recipient_status == Partner.Status.ACTIVE,
        lambda _: Q(recipient__status=Partner.Status.ACTIVE),
    ),
    Condition(
        "member_unavailable",
        "member",
        lambda facts, _: facts.member_status == MemberAccount.Status.ACTIVE,
        lambda _: Q(member__status=MemberAccount.Status.ACTIVE),
    ),
    Condition(
        "withdrawn",
        "state",
        lambda facts, _: facts.granted,
        lambda _: Q(granted=True),
    ),
    Condition(
        "expired",
        "state",
        lambda facts, moment: facts.expires_at is None or facts.expires_at > moment.at,
        lambda moment: Q(expires_at__isnull=True) | Q(expires_at__gt=moment.at),
    ),
    Condition(
        "notice_changed",
        "state",
        lambda facts, moment: (
            moment.conditions is not None and facts.notice_conditions == moment.conditions
        ),
        _notice_in_force,
    ),
)
REASONS = (CONSENTED, NOT_CONSENTED, *(condition.reason for condition in RULE))
ALL_SCOPES: frozenset[Scope] = frozenset({"recipient", "member", "state"})


def decide(facts: Facts | None, moment: Moment) -> Decision:
    """The answer for one member: ``facts`` is None when the member has no consent state."""
    if facts is None:
        return Decision(False, NOT_CONSENTED)
    for condition in RULE:
        if not condition.holds(facts, moment):
            return Decision(False, condition.reason)
    return Decision(True, CONSENTED)


def in_force_q(moment: Moment, *, scopes: Collection[Scope] = ALL_SCOPES) -> Q:
    """The conditions of ``scopes`` as one filter over ``ConsentState``."""
    q = Q()
    for condition in RULE:
        if condition.scope in scopes:
            q &= condition.q(moment)
    return q


def condition_q(reason: str, moment: Moment) -> Q:
    """The one condition of the rule that fails with ``reason``, as a filter over
    ``ConsentState`` (its negation is the states that fail it)."""
    (condition,) = (condition for condition in RULE if condition.reason == reason)
    return condition.q(moment)


def held_q(moment: Moment) -> Q:
    """A grant the member still holds (not withdrawn, not expired), whether or not the notice
    it was given under is still in force: what the preference page lists for the member to
    withdraw, and what the compliance pages count as consented."""
    return condition_q("withdrawn", moment) & condition_q("expired", moment)


def in_force_sql(
    *, member_column: str, purpose_code: str, recipient: Partner, moment: Moment
) -> tuple[str, list[Any]]:
    """The rule as an SQL condition on ``member_column`` (a trusted column name), for raw
    set-based queries that probe candidates one index lookup each. The recipient's status is
    read once here; the member's own status is the caller's query's to check on its member
    row (it has that row already, and a join per probe would cost every probe)."""
    recipient_status = (
        Partner.objects.filter(pk=recipient.pk).values_list("status", flat=True).first()
    )
    if recipient_status != Partner.Status.ACTIVE:
        return "1 = 0", []
    states = ConsentState.objects.filter(
        in_force_q(moment, scopes={"state"}),
        purpose_id=purpose_code,
        recipient_id=recipient.pk,
        # A column of the caller's query, never input: see the docstring.
        member_id=RawSQL(member_column, ()),  # noqa: S611
    ).values("pk")
    try:
        sql, params = states.query.sql_with_params()
    except EmptyResultSet:
        return "1 = 0", []
    return f"EXISTS ({sql})", list(params)
