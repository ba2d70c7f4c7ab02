from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from partners.models import WebhookDelivery
from partners.services import webhook_attempt_delivery


class Command(BaseCommand):
    help = (
        "Make the due attempts of pending webhook deliveries now, in this process. For a "
        "machine without a Celery broker; with one, workers and beat do this."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        due = WebhookDelivery.objects.filter(
            state=WebhookDelivery.State.PENDING, next_attempt_at__lte=timezone.now()
        ).values_list("pk", "attempt_count")
        sent = 0
        for delivery_id, attempt_count in due:
            outcome = webhook_attempt_delivery(
                delivery_id=str(delivery_id), attempt=attempt_count + 1
            )
            sent += outcome.delivered
        self.stdout.write(f"{len(due)} due deliveries attempted, {sent} delivered.")
