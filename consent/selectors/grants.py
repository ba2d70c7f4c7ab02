"""The grants a member holds, for the member's own eyes (the preference page)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from consent.models import ConsentState
from consent.rule import Moment, held_q
from partners.models import MemberAccount


def member_held_grants(member: MemberAccount, *, at: datetime) -> QuerySet[ConsentState]:
    """The member's grants that are given and not expired at ``at`` (``consent.rule.held_q``),
    with their recipient, purpose and notice, ordered by recipient then purpose."""
    return (
        ConsentState.objects.filter(held_q(Moment(at=at, conditions=None)), member=member)
        .select_related("purpose", "recipient", "notice")
        .order_by("recipient__name_latin", "purpose_id")
    )
