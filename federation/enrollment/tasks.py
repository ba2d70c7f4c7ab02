"""Enrollment tasks: running a queued batch. The task name is kept from before the domains
split, so messages already queued still find it."""

from typing import Any

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from federation.enrollment.models import EnrollmentBatch
from federation.enrollment.services import enrollment_batch_abandon, enrollment_batch_run


class _EnrollmentBatchTask(Task):
    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        # Out of retries, or an error no retry mends: the batch must not stay "running".
        enrollment_batch_abandon(batch_id=args[0], error=f"Stopped: {type(exc).__name__}.")


@shared_task(
    name="federation.tasks.run_enrollment_batch",
    base=_EnrollmentBatchTask,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def run_enrollment_batch(batch_id: str) -> int:
    """Enroll a queued batch; returns how many members it enrolled. A run commits its progress
    per chunk and continues from it, so a lost connection is retried, and a worker that died
    mid-run hands the batch to another (tasks are acknowledged late, CELERY_TASK_ACKS_LATE)."""
    batch = EnrollmentBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        return 0
    return enrollment_batch_run(batch=batch).enrolled
