"""Verifying the members' consent hash chains: one member's, or every member's (nightly)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

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
    previous_hash = GENESIS_HASH
    expected = 1
    seen: set[str] = set()
    events = ConsentEvent.objects.filter(member=member).order_by("sequence", "recorded_at", "id")
    for event in events.iterator():
        if event.sequence == expected - 1:
            return ChainBreak(member.pk, event.sequence, event.id, DUPLICATE_SEQUENCE)
        if event.sequence != expected:
            missing = EVENT_MISSING % {"sequence": expected}
            return ChainBreak(member.pk, expected, None, missing)
        if event.hash in seen or event.hash in duplicate_hashes:
            return ChainBreak(member.pk, event.sequence, event.id, DUPLICATE_HASH)
        if event.previous_hash != previous_hash:
            return ChainBreak(member.pk, event.sequence, event.id, NOT_FOLLOWING)
        if event_hash(event) != event.hash:
            return ChainBreak(member.pk, event.sequence, event.id, CHANGED)
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
    ``verify_consent_chains`` command); the compliance pages show the latest."""
    run = ChainVerification.objects.create()
    duplicate_hashes = duplicate_event_hashes()
    member_ids = ConsentEvent.objects.values_list("member_id", flat=True).distinct()
    members = MemberAccount.objects.filter(pk__in=member_ids).select_related("partner")
    for member in members.order_by("partner__slug", "member_number").iterator(chunk_size=500):
        run.chains_checked += 1
        problem = chain_verify(member=member, duplicate_hashes=duplicate_hashes)
        if problem is not None and len(run.breaks) < MAX_RECORDED_BREAKS:
            run.breaks.append(
                {
                    "member_id": str(member.pk),
                    "partner": member.partner.slug,
                    "member_number": member.member_number,
                    "sequence": problem.sequence,
                    "event_id": str(problem.event_id) if problem.event_id else None,
                    "problem": problem.problem,
                }
            )
    run.events_checked = ConsentEvent.objects.filter(recorded_at__lte=run.started_at).count()
    run.finished_at = timezone.now()
    run.save()
    return run
