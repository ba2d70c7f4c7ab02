"""The outbox's relay and its purge (``partners.tasking``): every minute, beat sends what no
process sent after its commit (killed first, or the broker was down), oldest first; sent
messages are kept a week for the operators, then deleted."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from partners.models import OutboxMessage
from partners.tasking import send

# A message younger than this is its own process's to send: the relay leaves it be.
GRACE = timedelta(seconds=30)
BATCH = 500
KEEP_SENT = timedelta(days=7)


def outbox_relay() -> int:
    """Send the due unsent messages, each once however many relays run; the number sent.
    Stops at the first the broker refuses (it is down: the rest wait for the next run)."""
    cutoff = timezone.now() - GRACE
    sent = 0
    with transaction.atomic():
        due = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True, created_at__lt=cutoff)
            .order_by("created_at", "id")[:BATCH]
        )
        for message in due:
            OutboxMessage.objects.filter(pk=message.pk).update(attempts=F("attempts") + 1)
            if not send(message.pk, message.task_name, message.args, request_id=message.request_id):
                break
            sent += 1
    return sent


def outbox_purge_sent() -> int:
    """Delete messages sent more than a week ago; the number deleted."""
    deleted, _ = OutboxMessage.objects.filter(sent_at__lt=timezone.now() - KEEP_SENT).delete()
    return deleted
