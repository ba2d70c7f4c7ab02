"""Verifying the members' consent hash chains: one member's, or every member's (nightly)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from consent.models import (
    ChainVerification,
    ConsentEvent,
)
from consent.services.records import GENESIS_HASH, event_hash
from partners.models import MemberAccount

# What is wrong with a broken link, as a run records it: in English, whoever reads it later (the
# record does not change with a reader's language); ``chain_problem_text`` translates for them.
EVENT_MISSING = gettext_noop("event #%(sequence)s is missing")
NOT_FOLLOWING = gettext_noop("does not follow the event before it")
CHANGED = gettext_noop("was changed after it was written")
DUPLICATE_SEQUENCE = gettext_noop("has the same number as another event of the member")
DUPLICATE_HASH = gettext_noop("has the same hash as another event")
_MISSING = re.compile(r"event #(?P<sequence>[0-9]+) is missing")


def chain_problem_text(problem: str) -> str:
    """A recorded problem in the active language; one recorded otherwise is shown as it is."""
    missing = _MISSING.fullmatch(problem)
    if missing is not None:
        return gettext(EVENT_MISSING) % {"sequence": missing["sequence"]}
    if problem in (NOT_FOLLOWING, CHANGED, DUPLICATE_SEQUENCE, DUPLICATE_HASH):
        return gettext(problem)
    return problem


@dataclass(frozen=True)
class ChainBreak:
    member_id: uuid.UUID
    sequence: int
    event_id: uuid.UUID | None
    problem: str


def chain_verify(
    *, member: MemberAccount, duplicate_hashes: frozenset[str] = frozenset()
) -> ChainBreak | None:
    """The first broken link of a member's consent chain, or None if it is intact.

    Detects an event whose content no longer matches its hash (edited), a hash that does not
    follow from the previous event (reordered, or one deleted in between), a gap in the
    sequence numbers (deleted), and a number or a hash used twice: the database does not
    declare them unique (the events are partitioned by month). A hash is compared within the
    chain and with ``duplicate_hashes``, the hashes found more than once over every member's
    events (``duplicate_event_hashes``).
    """
    events = ConsentEvent.objects.filter(member=member).order_by(*_CHAIN_ORDER)
    return _first_break(member.pk, events.iterator(), duplicate_hashes)


# A member's events in chain order; two with the same number both come, one after the other.
_CHAIN_ORDER = ("sequence", "recorded_at", "id")


def _first_break(
    member_id: uuid.UUID, events: Iterable[ConsentEvent], duplicate_hashes: frozenset[str]
) -> ChainBreak | None:
    previous_hash = GENESIS_HASH
    expected = 1
    seen: set[str] = set()
    for event in events:
        if event.sequence == expected - 1:
            return ChainBreak(member_id, event.sequence, event.id, DUPLICATE_SEQUENCE)
        if event.sequence != expected:
            missing = EVENT_MISSING % {"sequence": expected}
            return ChainBreak(member_id, expected, None, missing)
        if event.hash in seen or event.hash in duplicate_hashes:
            return ChainBreak(member_id, event.sequence, event.id, DUPLICATE_HASH)
        if event.previous_hash != previous_hash:
            return ChainBreak(member_id, event.sequence, event.id, NOT_FOLLOWING)
        if event_hash(event) != event.hash:
            return ChainBreak(member_id, event.sequence, event.id, CHANGED)
        seen.add(event.hash)
        previous_hash = event.hash
        expected += 1
    return None


def duplicate_event_hashes(limit: int = 10_000) -> frozenset[str]:
    """The hashes more than one event carries, over the whole table (at most ``limit``)."""
    found = (
        ConsentEvent.objects.values("hash")
        .annotate(events=Count("pk"))
        .filter(events__gt=1)
        .values_list("hash", flat=True)
        .order_by()[:limit]
    )
    return frozenset(found)


MAX_RECORDED_BREAKS = 1000


def chains_verify_all() -> ChainVerification:
    """Verify every member's consent chain and record the run (the nightly task and the
    ``verify_consent_chains`` command); the compliance pages show the latest.

    Reads the events once, member after member, rather than a query per member: on the
    partitioned table each of those would probe every month's index."""
    run = ChainVerification.objects.create()
    duplicate_hashes = duplicate_event_hashes()
    events = ConsentEvent.objects.order_by("member_id", *_CHAIN_ORDER).iterator(chunk_size=2000)
    found = []
    for member_id, chain in groupby(events, key=attrgetter("member_id")):
        run.chains_checked += 1
        problem = _first_break(member_id, chain, duplicate_hashes)
        if problem is not None:
            found.append(problem)
    run.breaks = _recorded(found)
    run.events_checked = ConsentEvent.objects.filter(recorded_at__lte=run.started_at).count()
    run.finished_at = timezone.now()
    run.save()
    return run


def _recorded(found: list[ChainBreak]) -> list[dict[str, object]]:
    """The first MAX_RECORDED_BREAKS breaks by partner and member number, as a run keeps them."""
    names: dict[uuid.UUID, tuple[str, str]] = {}
    ids = [problem.member_id for problem in found]
    for start in range(0, len(ids), 10_000):
        members = MemberAccount.objects.filter(pk__in=ids[start : start + 10_000])
        rows = members.values_list("pk", "partner__slug", "member_number")
        names.update({pk: (slug, number) for pk, slug, number in rows})
    found.sort(key=lambda problem: names[problem.member_id])
    return [
        {
            "member_id": str(problem.member_id),
            "partner": names[problem.member_id][0],
            "member_number": names[problem.member_id][1],
            "sequence": problem.sequence,
            "event_id": str(problem.event_id) if problem.event_id else None,
            "problem": problem.problem,
        }
        for problem in found[:MAX_RECORDED_BREAKS]
    ]
