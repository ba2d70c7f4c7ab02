"""What the record holds about one member, for the member's own eyes (the preference page):
the withdrawals they made and the provisions of their data (APPI lets a member see both).

Every read here takes the member and filters on it first: a caller can never reach another
member's rows through an id it was handed."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from consent.models import ConsentEvent, ConsentState, PrivacyNotice, ProvisionRecord
from partners.models import MemberAccount, Partner


def member_withdrawals(member: MemberAccount) -> QuerySet[ConsentEvent]:
    """The member's withdrawals, newest first, with their purpose and recipient: one query
    however many there are."""
    return (
        ConsentEvent.objects.filter(member=member, action=ConsentEvent.Action.WITHDRAWN)
        .select_related("purpose", "recipient")
        .order_by("-occurred_at", "-sequence")
    )


def member_withdrawal(member: MemberAccount, event_id: str) -> ConsentEvent | None:
    """The member's withdrawal ``event_id``, or None when it is not a withdrawal of this
    member's (or not an id at all): another member's event answers like a missing one."""
    try:
        pk = uuid.UUID(event_id)
    except ValueError:
        return None
    return member_withdrawals(member).filter(pk=pk).first()


def member_standing_withdrawal(
    member: MemberAccount, *, purpose_code: str, recipient: Partner
) -> ConsentEvent | None:
    """The withdrawal that is the member's current state for this purpose and recipient, or
    None when the member's consent there is in force or never existed (a form posted twice
    finds the withdrawal the first post made)."""
    state = (
        ConsentState.objects.filter(
            member=member,
            purpose_id=purpose_code,
            recipient=recipient,
            granted=False,
            event__action=ConsentEvent.Action.WITHDRAWN,
        )
        .select_related("event")
        .first()
    )
    return state.event if state is not None else None


def member_provisions(member: MemberAccount) -> QuerySet[ProvisionRecord]:
    """The provision records of the member's data (which company gave which items to which,
    when, for what), newest first, with the companies and the purpose: one query."""
    return (
        ProvisionRecord.objects.filter(member=member)
        .select_related("provider", "recipient", "purpose")
        .order_by("-provided_at", "id")
    )


def notice_in_force_for_reader(
    *, language: str, at: datetime | None = None
) -> PrivacyNotice | None:
    """The notice version in effect at ``at`` (now), in ``language`` when that version was
    published in it, else in another of its languages (the caller says which it got). One
    query."""
    preferred = Case(
        When(language=language, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return (
        PrivacyNotice.objects.filter(effective_at__lte=at or timezone.now())
        .order_by("-version", preferred, "language")
        .first()
    )
