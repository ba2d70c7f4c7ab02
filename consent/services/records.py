"""Recording consents: grants and withdrawals appended to the member's hash chain under a lock on
the member's row, with the materialised ``ConsentState`` changed in the same transaction, so a
withdrawal is in force for every check the moment it commits."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consent import check_cache
from consent.models import (
    Channel,
    ConsentEvent,
    ConsentState,
    PrivacyNotice,
    Purpose,
    WithdrawalNotice,
)
from consent.selectors.notices import current_conditions
from consent.services.common import invalid as _invalid
from consent.services.common import sha256_canonical as _sha256
from consent.services.provisions import PARTITION_MONTHS_AHEAD
from consent.services.withdrawals import withdrawal_send
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import MemberAccount, Partner
from partners.partitions import month_partitions_create
from partners.pii import pseudonym_for

GENESIS_HASH = "0" * 64
# A member's device clock may run a little ahead of ours; more than this is a wrong timestamp.
_CLOCK_SKEW = timedelta(minutes=5)


def _event_fields(event: ConsentEvent) -> dict[str, Any]:
    """What the hash covers: everything the event says, in a canonical form."""
    return {
        "id": str(event.id),
        "member": str(event.member_id),
        "sequence": event.sequence,
        "purpose": event.purpose_id,
        "recipient": str(event.recipient_id),
        "action": event.action,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "recorded_at": event.recorded_at.astimezone(UTC).isoformat(),
        "channel": event.channel,
        "captured_by": event.captured_by,
        "captured_by_partner": str(event.captured_by_partner_id or ""),
        "notice": str(event.notice_id or ""),
        "expires_at": event.expires_at.astimezone(UTC).isoformat() if event.expires_at else "",
        "jurisdiction": event.jurisdiction,
        "previous_hash": event.previous_hash,
    }


def event_hash(event: ConsentEvent) -> str:
    return _sha256(_event_fields(event))


def _check_time(field: str, value: datetime, now: datetime) -> None:
    if timezone.is_naive(value):
        raise _invalid(field, _("Give a timezone-aware time (with an offset, e.g. +09:00)."))
    if value > now + _CLOCK_SKEW:
        raise _invalid(field, _("This time is in the future."))


def _append(
    *,
    member: MemberAccount,
    purpose: Purpose,
    recipient: Partner,
    action: str,
    occurred_at: datetime,
    channel: str,
    actor: Actor,
    notice: PrivacyNotice | None = None,
    expires_at: datetime | None = None,
    jurisdiction: str = "JP",
) -> ConsentEvent:
    # The member's row is the chain's lock: one writer at a time extends it. This is what keeps
    # (member, sequence) unique now that the partitioned table cannot declare it
    # (tests/consent/test_event_partitions.py; the chain verification checks it too).
    MemberAccount.objects.select_for_update().filter(pk=member.pk).values_list("pk").get()
    last = (
        ConsentEvent.objects.filter(member=member)
        .order_by("-sequence")
        .values_list("sequence", "hash")
        .first()
    )
    sequence, previous_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    event = ConsentEvent(
        id=uuid.uuid4(),
        member=member,
        sequence=sequence,
        purpose=purpose,
        recipient=recipient,
        action=action,
        occurred_at=occurred_at,
        recorded_at=timezone.now(),
        channel=channel,
        captured_by=actor.label[:200],
        captured_by_partner=actor.partner,
        notice=notice,
        expires_at=expires_at,
        jurisdiction=jurisdiction,
        previous_hash=previous_hash,
    )
    event.hash = event_hash(event)
    event.save(force_insert=True)
    ConsentState.objects.update_or_create(
        member=member,
        purpose=purpose,
        recipient=recipient,
        defaults={
            "granted": action == ConsentEvent.Action.GRANTED,
            "expires_at": expires_at,
            "notice": notice,
            "event": event,
            "event_recorded_at": event.recorded_at,
            "changed_at": event.recorded_at,
        },
    )
    # Other processes hear of it from PostgreSQL; this one forgets at once.
    transaction.on_commit(check_cache.forget_member_on_commit(member.pk))
    return event


def _purpose(code: str) -> Purpose:
    purpose = Purpose.objects.filter(code=code, active=True).first()
    if purpose is None:
        raise _invalid("purpose", _("There is no purpose %(code)r.") % {"code": code})
    return purpose


def _channel(channel: str) -> str:
    if channel not in Channel.values:
        raise _invalid(
            "channel",
            _("Give a channel: one of %(channels)s.") % {"channels": ", ".join(Channel.values)},
        )
    return channel


def consent_grant(
    *,
    member: MemberAccount,
    purpose_code: str,
    recipient: Partner,
    notice: PrivacyNotice,
    channel: str,
    occurred_at: datetime,
    actor: Actor,
    expires_at: datetime | None = None,
    jurisdiction: str = "JP",
) -> ConsentEvent:
    """Record that ``member`` consented to ``purpose_code`` for ``recipient`` alone.

    Raises ApplicationError (validation_failed) for an unknown purpose, an inactive recipient,
    a notice that is not the one in effect or does not cover this purpose and recipient, a
    naive or future time, an expiry before the grant, or a missing channel.
    """
    now = timezone.now()
    purpose = _purpose(purpose_code)
    if _channel(channel) == Channel.DATA_SUBJECT_REQUEST:
        raise _invalid("channel", _("Consent is never given through a data-subject request."))
    _check_time("occurred_at", occurred_at, now)
    if expires_at is not None:
        _check_time("expires_at", expires_at, now + timedelta(days=36_500))
        if expires_at <= occurred_at:
            raise _invalid("expires_at", _("A consent must expire after it was given."))
    if not recipient.is_active:
        raise _invalid("recipient", _("This recipient cannot receive member data now."))
    if member.status == MemberAccount.Status.ERASED:
        raise ApplicationError(ErrorCode.CONFLICT, _("This member's data has been erased."))
    if notice.conditions_sha256 != current_conditions(at=now):
        raise _invalid(
            "notice", _("This notice version has been superseded; show the member the current one.")
        )
    if occurred_at < notice.effective_at:
        raise _invalid(
            "occurred_at", _("The member cannot have agreed to a notice not yet in effect.")
        )
    if not jurisdiction or len(jurisdiction) > 8:
        raise _invalid("jurisdiction", _("Give a jurisdiction code of at most 8 characters."))
    covered = notice.conditions
    if purpose.code not in covered["purposes"] or recipient.slug not in covered["recipients"]:
        raise _invalid("notice", _("The notice the member saw does not cover this use."))
    with transaction.atomic():
        return _append(
            member=member,
            purpose=purpose,
            recipient=recipient,
            action=ConsentEvent.Action.GRANTED,
            occurred_at=occurred_at,
            channel=channel,
            actor=actor,
            notice=notice,
            expires_at=expires_at,
            jurisdiction=jurisdiction,
        )


def consent_withdraw(
    *,
    member: MemberAccount,
    purpose_code: str,
    recipient: Partner,
    channel: str,
    occurred_at: datetime,
    actor: Actor,
) -> ConsentEvent:
    """Record a withdrawal; every check answers no from the moment this commits.

    Raises ApplicationError: validation_failed (unknown purpose, naive or future time, channel),
    conflict if there is no consent in force to withdraw.
    """
    purpose = _purpose(purpose_code)
    _channel(channel)
    _check_time("occurred_at", occurred_at, timezone.now())
    with transaction.atomic():
        state = (
            ConsentState.objects.select_for_update()
            .filter(member=member, purpose=purpose, recipient=recipient, granted=True)
            .first()
        )
        if state is None:
            raise ApplicationError(
                ErrorCode.CONFLICT,
                _("There is no consent in force for this purpose and recipient."),
            )
        if occurred_at < state.event.occurred_at:
            raise _invalid("occurred_at", _("A consent cannot be withdrawn before it was given."))
        event = _append(
            member=member,
            purpose=purpose,
            recipient=recipient,
            action=ConsentEvent.Action.WITHDRAWN,
            occurred_at=occurred_at,
            channel=channel,
            actor=actor,
        )
        notice = WithdrawalNotice.objects.create(
            event=event,
            event_recorded_at=event.recorded_at,
            recipient=recipient,
            member_pseudonym=pseudonym_for(member.pk, recipient.pk),
            created_at=event.recorded_at,
            last_sent_at=event.recorded_at,
        )
        withdrawal_send(notice)
        return event


def consents_withdraw_all(
    *, member: MemberAccount, channel: str, actor: Actor
) -> list[ConsentEvent]:
    """Withdraw every consent the member has given (an erasure): each recipient is sent its
    withdrawal as for any other. Expired grants are withdrawn too, so no recipient is left
    without word that the member is gone."""
    now = timezone.now()
    states = (
        ConsentState.objects.filter(member=member, granted=True)
        .select_related("recipient", "event")
        .order_by("recipient__slug", "purpose_id")
    )
    return [
        consent_withdraw(
            member=member,
            purpose_code=state.purpose_id,
            recipient=state.recipient,
            channel=channel,
            # A grant stamped a little ahead by the member's clock still comes first.
            occurred_at=max(now, state.event.occurred_at),
            actor=actor,
        )
        for state in states
    ]


def consent_event_partitions_maintain(*, today: date | None = None) -> list[str]:
    """Create this month's partition of the consent events and the next
    PARTITION_MONTHS_AHEAD months' if missing (the daily task); returns their names. No month
    is ever dropped: consent records are kept for good. Nothing on SQLite (no partitions)."""
    if connection.vendor != "postgresql":
        return []
    return month_partitions_create(
        table=ConsentEvent._meta.db_table,
        column="recorded_at",
        months_ahead=PARTITION_MONTHS_AHEAD,
        today=today or timezone.now().date(),
    )
