from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from partners.models import WebhookDelivery
from partners.services import idempotency_purge_expired, matching, webhook_attempt_delivery
from partners.services.member_import import member_import_run
from partners.services.member_import_jobs import member_import_fail_abandoned
from partners.services.outbox import outbox_purge_sent, outbox_relay

# A pending delivery this far past its due time lost its task message (a worker died, the
# broker was flushed); the sweeper hands it to Celery again.
STALLED_AFTER = timedelta(minutes=10)


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver_webhook(self, delivery_id: str, attempt: int) -> None:
    outcome = webhook_attempt_delivery(delivery_id=delivery_id, attempt=attempt)
    if outcome.retry_in is None:
        return
    if self.request.is_eager:
        # Without a broker nothing runs a delayed task (an eager countdown would block this
        # request for minutes): the delivery stays pending with its next attempt time, and
        # `manage.py deliver_webhooks --every`, which `make run` starts, makes it when due.
        return
    deliver_webhook.apply_async((delivery_id, attempt + 1), countdown=outcome.retry_in)


@shared_task
def requeue_stalled_webhook_deliveries() -> int:
    cutoff = timezone.now() - STALLED_AFTER
    stalled = WebhookDelivery.objects.filter(
        state=WebhookDelivery.State.PENDING, next_attempt_at__lt=cutoff
    ).values_list("pk", "attempt_count")[:1000]
    for delivery_id, attempt_count in stalled:
        deliver_webhook.delay(str(delivery_id), attempt_count + 1)
    return len(stalled)


@shared_task
def purge_expired_idempotency_keys() -> int:
    return idempotency_purge_expired()


@shared_task(acks_late=True)
def run_member_import(job_id: str) -> None:
    # acks_late: a worker that dies mid-import leaves the message to be redelivered, and the
    # run resumes from the job's last committed chunk once the dead run's lease expires.
    member_import_run(job_id=job_id)


@shared_task
def fail_abandoned_member_imports() -> int:
    return member_import_fail_abandoned()


@shared_task
def merge_persons_split_by_a_race() -> int:
    # Looks back further than the schedule's period, so a missed run loses nothing.
    return matching.merge_persons_split_by_a_race(since=timezone.now() - timedelta(hours=2))


@shared_task
def relay_outbox() -> int:
    # Sends what a process committed but did not get to the broker (partners.tasking).
    return outbox_relay()


@shared_task
def purge_sent_outbox() -> int:
    return outbox_purge_sent()
