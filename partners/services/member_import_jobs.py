"""Member import jobs: which run holds a job, the progress it saves, how it ends, and the jobs
nobody finished.

A run holds its job through a lease, renewed with every checkpoint; every write of progress
goes through ``checkpoint``, which refuses once another run has taken the job over, so a
stalled run and a resumed one never both stage rows. ``partners.services.member_import``
stages and applies the file under this bookkeeping.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import AuditEvent, MemberImport
from partners.services.audit import audit_record
from partners.services.member_staging import Stage
from partners.tasking import enqueue_on_commit

# A run that has not renewed its lease for this long is presumed dead and may be resumed.
LEASE = timedelta(minutes=5)
# An unfinished import nobody has touched for this long is failed and its file deleted.
ABANDONED_AFTER = timedelta(days=7)
RUN_MEMBER_IMPORT = "partners.tasks.run_member_import"


def member_import_resume(*, job: MemberImport) -> None:
    """Hand an interrupted import to Celery again once this transaction commits.

    Raises ApplicationError (conflict) if the job has finished or a live run still holds it;
    the run itself checks again when it starts, so two resumes never run twice.
    """
    job.refresh_from_db()
    if job.is_finished:
        raise ApplicationError(
            ErrorCode.CONFLICT, _("This import has finished: nothing to resume.")
        )
    if lease_is_live(job):
        raise ApplicationError(
            ErrorCode.CONFLICT,
            _(
                "This import is still running (last progress at %(time)s UTC); it can be "
                "resumed once its lease runs out."
            )
            % {"time": f"{job.heartbeat_at:%H:%M:%S}"},
        )
    enqueue_on_commit(RUN_MEMBER_IMPORT, str(job.id))


def member_import_fail_abandoned(*, older_than: timedelta = ABANDONED_AFTER) -> int:
    """Fail imports nobody has run for ``older_than``: drop their staging tables and delete
    their files, so an abandoned upload does not keep a member base in clear. Returns how many.
    """
    cutoff = timezone.now() - older_than
    abandoned = MemberImport.objects.exclude(status__in=MemberImport.FINISHED_STATUSES).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )
    count = 0
    for job in abandoned.select_related("partner"):
        with transaction.atomic():
            with translation.override(job.language):
                failure = _("Abandoned: nobody resumed this import for %(days)d days.") % {
                    "days": older_than.days
                }
            updated = MemberImport.objects.filter(pk=job.pk, heartbeat_at=job.heartbeat_at).update(
                status=MemberImport.Status.FAILED,
                failure=failure,
                finished_at=timezone.now(),
                runner=None,
            )
            if not updated:
                continue  # a run picked it up meanwhile
            job.refresh_from_db()
            audit_finished(job)
        Stage(name=job.id, partner_id=job.partner_id).drop()
        discard_source(job)
        count += 1
    return count


def discard_source(job: MemberImport) -> None:
    """Delete the uploaded file once its job has finished: it is the whole member base in
    clear, and keeping it would outlive every erasure. Its name, size and SHA-256 stay."""
    if job.source:
        job.source.delete(save=False)
        MemberImport.objects.filter(pk=job.pk).update(source="")


def lease_left(job: MemberImport) -> timedelta | None:
    """How long the run holding the job keeps it without renewing; None if no run holds it.
    Staging renews the lease with every chunk; the apply is one long transaction that cannot,
    so it gets time in proportion to its rows."""
    if job.runner is None or job.heartbeat_at is None:
        return None
    lease = LEASE
    if job.status == MemberImport.Status.APPLYING:
        lease += timedelta(milliseconds=job.rows_staged // 2)
    left = job.heartbeat_at + lease - timezone.now()
    return left if left > timedelta(0) else None


def lease_is_live(job: MemberImport) -> bool:
    """Whether a run still holds the job."""
    return lease_left(job) is not None


def member_import_lease_left(*, job_id: uuid.UUID | str) -> timedelta | None:
    """How long until the run holding an unfinished job loses it; None if the job is
    finished, gone, or held by no run."""
    job = MemberImport.objects.filter(pk=job_id).first()
    if job is None or job.is_finished:
        return None
    return lease_left(job)


def claim(job_id: uuid.UUID | str, runner: uuid.UUID) -> MemberImport:
    """Take the job for ``runner``, unless it has finished (returned as it is). Raises
    ApplicationError (conflict) while another run's lease is live."""
    now = timezone.now()
    with transaction.atomic():
        job = MemberImport.objects.select_for_update().select_related("partner").get(pk=job_id)
        if job.is_finished:
            return job
        if lease_is_live(job):
            raise ApplicationError(
                ErrorCode.CONFLICT,
                _(
                    "Import %(job)s is being run by another worker (last seen %(time)s); it "
                    "can be resumed once that run stops."
                )
                % {"job": job.id, "time": f"{job.heartbeat_at:%H:%M:%S}"},
            )
        job.runner = runner
        job.heartbeat_at = now
        job.started_at = job.started_at or now
        if job.status == MemberImport.Status.PENDING:
            job.status = MemberImport.Status.STAGING
        job.save(update_fields=["runner", "heartbeat_at", "started_at", "status"])
    return job


def checkpoint(job: MemberImport, runner: uuid.UUID, **fields: Any) -> None:
    """Save progress if this run still holds the job; otherwise abort the chunk."""
    fields["heartbeat_at"] = timezone.now()
    updated = MemberImport.objects.filter(pk=job.pk, runner=runner).update(**fields)
    if not updated:
        raise ApplicationError(
            ErrorCode.CONFLICT,
            _("Import %(job)s was taken over by another run; stopping.") % {"job": job.id},
        )
    for name, value in fields.items():
        setattr(job, name, value)


def finish(job: MemberImport, runner: uuid.UUID, status: str, **fields: Any) -> None:
    """Record how the run holding ``job`` ended, with its final ``fields``, and audit it in the
    caller's transaction."""
    checkpoint(job, runner, status=status, finished_at=timezone.now(), **fields)
    audit_finished(job)


def record_failure(job: MemberImport, runner: uuid.UUID, reason: str) -> None:
    with transaction.atomic():
        finish(job, runner, MemberImport.Status.FAILED, failure=reason)


def audit_finished(job: MemberImport) -> None:
    audit_record(
        action=AuditEvent.Action.MEMBER_IMPORT_FINISHED,
        actor=Actor.system() if job.created_by is None else Actor(user=job.created_by),
        partner=job.partner,
        target=job,
        detail={
            "status": job.status,
            "created": job.rows_created,
            "updated": job.rows_updated,
            "unchanged": job.rows_unchanged,
            "invalid": job.rows_invalid,
        },
    )
