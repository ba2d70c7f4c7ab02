"""Verifying the members' consent hash chains: one member's, or every member's (nightly)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.utils import timezone

from consent.models import (
    ChainVerification,
    ConsentEvent,
)
from consent.services.records import GENESIS_HASH, event_hash
from partners.models import MemberAccount


@dataclass(frozen=True)
class ChainBreak:
    member_id: uuid.UUID
    sequence: int
    event_id: uuid.UUID | None
    problem: str


def chain_verify(*, member: MemberAccount) -> ChainBreak | None:
    """The first broken link of a member's consent chain, or None if it is intact.

    Detects an event whose content no longer matches its hash (edited), a hash that does not
    follow from the previous event (reordered, or one deleted in between), and a gap in the
    sequence numbers (deleted).
    """
    previous_hash = GENESIS_HASH
    expected = 1
    for event in ConsentEvent.objects.filter(member=member).order_by("sequence").iterator():
        if event.sequence != expected:
            return ChainBreak(member.pk, expected, None, f"event #{expected} is missing")
        if event.previous_hash != previous_hash:
            return ChainBreak(
                member.pk, event.sequence, event.id, "does not follow the event before it"
            )
        if event_hash(event) != event.hash:
            return ChainBreak(
                member.pk, event.sequence, event.id, "was changed after it was written"
            )
        previous_hash = event.hash
        expected += 1
    return None


MAX_RECORDED_BREAKS = 1000


def chains_verify_all() -> ChainVerification:
    """Verify every member's consent chain and record the run (the nightly task and the
    ``verify_consent_chains`` command); the compliance pages show the latest."""
    run = ChainVerification.objects.create()
    member_ids = ConsentEvent.objects.values_list("member_id", flat=True).distinct()
    members = MemberAccount.objects.filter(pk__in=member_ids).select_related("partner")
    for member in members.order_by("partner__slug", "member_number").iterator(chunk_size=500):
        run.chains_checked += 1
        problem = chain_verify(member=member)
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
