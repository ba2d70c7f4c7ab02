"""Due webhook attempts made in this process: the retries of a machine without a broker.

With a broker, a failed attempt schedules its retry as a delayed task, and beat's sweeper
re-queues a delivery whose task was lost. Without one (eager Celery: ``make run``, tests),
nothing runs a delayed task, so the retry waits here until ``manage.py deliver_webhooks``
(``--every``, which ``make run`` starts) asks for due attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from partners.models import WebhookDelivery
from partners.services.webhooks import webhook_attempt_delivery


@dataclass(frozen=True)
class DueAttempts:
    attempted: int
    delivered: int


def webhook_deliveries_attempt_due(
    *, now: datetime | None = None, limit: int = 1000
) -> DueAttempts:
    """Make the next attempt of every pending delivery due by ``now`` (at most ``limit``,
    oldest due first). Each attempt is claimed as a worker's is, so a worker or another
    process making the same attempt never sends it twice."""
    due = list(
        WebhookDelivery.objects.filter(
            state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now or timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", "attempt_count")[:limit]
    )
    delivered = 0
    for delivery_id, attempt_count in due:
        outcome = webhook_attempt_delivery(delivery_id=str(delivery_id), attempt=attempt_count + 1)
        delivered += outcome.delivered
    return DueAttempts(attempted=len(due), delivered=delivered)
