from celery import shared_task

from federation.models import EnrollmentBatch
from federation.services import agreements_expire, enrollment_batch_run


@shared_task
def expire_agreements() -> int:
    """Daily: mark agreements whose terms ran out as expired and tell their parties."""
    return agreements_expire()


@shared_task
def run_enrollment_batch(batch_id: str) -> int:
    """Enroll a queued batch; returns how many members it enrolled."""
    batch = EnrollmentBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        return 0
    return enrollment_batch_run(batch=batch).enrolled
