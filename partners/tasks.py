from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from partners.errors import ApplicationError, ErrorCode
from partners.models import WebhookDelivery
from partners.services import (
    idempotency_purge_expired,
    matching,
    webhook_attempt_delivery,
    webhook_deliveries_retain,
)
from partners.services.member_import import member_import_run
from partners.services.member_import_jobs import (
    member_import_fail_abandoned,
    member_import_lease_left,
)
from partners.services.outbox import outbox_purge_sent, outbox_relay

# A pending delivery this far past its due time lost its task message (a worker died, the
# broker was flushed); the sweeper hands it to Celery again.
STALLED_AFTER = timedelta(minutes=10)
# An import held by another run is asked about again at least this often.
IMPORT_HELD_RETRY = timedelta(minutes=10)


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
def retain_webhook_deliveries() -> dict[str, list[str] | int]:
    """Daily: next months' partitions made ahead of time, deliveries past their retention
    taken away (whole months on PostgreSQL, rows elsewhere)."""
    return webhook_deliveries_retain()._asdict()


@shared_task
def purge_expired_idempotency_keys() -> int:
    return idempotency_purge_expired()


@shared_task(bind=True, acks_late=True, max_retries=None)
def run_member_import(self, job_id: str) -> None:
    # acks_late: a worker that dies mid-import leaves the message to be redelivered, and the
    # run resumes from the job's last committed chunk once the dead run's lease expires.
    try:
        member_import_run(job_id=job_id)
    except ApplicationError as refused:
        if refused.code != ErrorCode.CONFLICT or self.request.is_eager:
            raise  # eagerly, a retry would run again at once, not when the lease runs out
        # Another run holds the job: a live one (this message came twice), or a dead one whose
        # lease has not run out yet (the broker redelivered sooner: its visibility timeout
        # counts from the delivery, the lease from the last progress). Ask again when the
        # lease runs out; dropping the message would leave the import to be failed as
        # abandoned days later. A dead run's import is resumed then, a finished one left be.
        left = member_import_lease_left(job_id=job_id) or timedelta(0)
        wait = min(left, IMPORT_HELD_RETRY).total_seconds()
        raise self.retry(countdown=int(wait) + 1) from refused


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
