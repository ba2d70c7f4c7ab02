"""Withdrawals sent to the recipients of a member's data, their acknowledgement and resending,
and the word to every recipient that an erased member is gone."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from consent.models import (
    ConsentState,
    ProvisionRecord,
    WithdrawalNotice,
)
from partners.actors import Actor
from partners.models import MemberAccount, Partner
from partners.pii import pseudonym_for
from partners.services import webhook_emit


def erasure_notify_recipients(*, member: MemberAccount) -> list[Partner]:
    """Tell every partner that was ever meant to receive the erased member's data to delete it
    (``consent.member_erased``), under the id it knows the member by. Returns them."""
    recipient_ids = set(
        ConsentState.objects.filter(member=member).values_list("recipient_id", flat=True)
    ) | set(ProvisionRecord.objects.filter(member=member).values_list("recipient_id", flat=True))
    recipient_ids.discard(member.partner_id)
    recipients = list(Partner.objects.filter(pk__in=recipient_ids).order_by("slug"))
    for recipient in recipients:
        webhook_emit(
            partner=recipient,
            event_type="consent.member_erased",
            data={
                "member": pseudonym_for(member.pk, recipient.pk),
                "erased_at": member.updated_at.isoformat(),
            },
        )
    return recipients


def withdrawal_send(notice: WithdrawalNotice) -> None:
    # The recipient knows the member only by its own pseudonymous id, never by the owner's
    # member number.
    webhook_emit(
        partner=notice.recipient,
        event_type="consent.withdrawn",
        data={
            "withdrawal_id": str(notice.event_id),
            "member": notice.member_pseudonym,
            "purpose": notice.event.purpose_id,
            "withdrawn_at": notice.event.occurred_at.isoformat(),
            "acknowledge_by": withdrawal_due(notice).isoformat(),
        },
    )


def withdrawal_due(notice: WithdrawalNotice) -> datetime:
    return notice.created_at + timedelta(hours=settings.SANPO_WITHDRAWAL_ACK_HOURS)


def withdrawal_acknowledge(*, notice: WithdrawalNotice, actor: Actor) -> WithdrawalNotice:
    """The recipient confirms it stopped using the data. Repeating it changes nothing."""
    with transaction.atomic():
        notice = WithdrawalNotice.objects.select_for_update().get(pk=notice.pk)
        if notice.acknowledged_at is None:
            notice.acknowledged_at = timezone.now()
            notice.acknowledged_by = actor.label[:200]
            notice.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return notice


def withdrawals_resend_unacknowledged(*, now: datetime | None = None) -> int:
    """Send again every unacknowledged withdrawal last sent more than the resend interval ago
    (the periodic task). Returns how many were sent."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.SANPO_WITHDRAWAL_RESEND_HOURS)
    sent = 0
    stale = WithdrawalNotice.objects.filter(acknowledged_at__isnull=True, last_sent_at__lt=cutoff)
    for notice in stale.select_related("recipient", "event")[:1000]:
        with transaction.atomic():
            claimed = WithdrawalNotice.objects.filter(
                pk=notice.pk, last_sent_at=notice.last_sent_at, acknowledged_at__isnull=True
            ).update(last_sent_at=now, times_sent=F("times_sent") + 1)
            if claimed:
                withdrawal_send(notice)
                sent += 1
    return sent
