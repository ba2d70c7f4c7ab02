"""Many members at once (a campaign): started with the agreement and the fields checked, run by
a task in chunks, each chunk one query for its eligible members and one insert, with progress
committed per chunk so that a re-run continues where the last stopped."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from consent.selectors import consented_member_ids
from federation.agreements.selectors import TermsInForce
from federation.audit import FederationAuditAction
from federation.enrollment.models import Enrollment, EnrollmentBatch
from federation.enrollment.services.gates import (
    LIVE,
    REQUIRED_CONSENTS,
    audit_asked,
    enrollment_fields,
    terms_to_enroll,
)
from partners.actors import Actor
from partners.errors import ApplicationError, validation_failed
from partners.models import MemberAccount, Partner
from partners.services import webhook_emit
from partners.tasking import enqueue_on_commit

RUN_ENROLLMENT_BATCH = "federation.tasks.run_enrollment_batch"
MAX_BATCH_MEMBERS = 50_000  # fits the 1 MiB request body limit with 18-character numbers
BATCH_CHUNK = 5_000


def enrollment_batch_start(
    *,
    source: Partner,
    target: Partner,
    member_numbers: Sequence[str],
    fields: Sequence[str] | None,
    actor: Actor,
) -> EnrollmentBatch:
    """Queue the enrollment of many of ``source``'s members with ``target`` (a campaign). The
    agreement and fields are checked now; consent per member when the task runs."""
    if not member_numbers or len(member_numbers) > MAX_BATCH_MEMBERS:
        raise validation_failed(
            "member_numbers",
            _("Give from 1 to %(most)s member numbers.") % {"most": f"{MAX_BATCH_MEMBERS:,}"},
        )
    _terms, wanted = enrollment_fields(source=source, target=target, requested=fields)
    # Spelt as the single lookup reads them: width and surrounding spaces do not matter.
    numbers = sorted({unicodedata.normalize("NFKC", str(n)).strip() for n in member_numbers})
    with transaction.atomic():
        batch = EnrollmentBatch.objects.create(
            source=source,
            target=target,
            member_numbers=numbers,
            fields=wanted,
            total=len(numbers),
            requested_by=actor.label[:200],
        )
        audit_asked(
            FederationAuditAction.ENROLLMENT_BATCH_STARTED, actor, batch, members=len(numbers)
        )
        enqueue_on_commit(RUN_ENROLLMENT_BATCH, str(batch.pk))
    return batch


def enrollment_batch_run(*, batch: EnrollmentBatch) -> EnrollmentBatch:
    """Enroll a batch in chunks: per chunk one query selects the eligible members (the source's
    active accounts with both consents in force, not already enrolled) and one insert enrolls
    them all. Progress is committed per chunk, so a re-run continues where it stopped."""
    claimed = EnrollmentBatch.objects.filter(
        pk=batch.pk, status__in=[EnrollmentBatch.Status.QUEUED, EnrollmentBatch.Status.RUNNING]
    ).update(status=EnrollmentBatch.Status.RUNNING)
    batch.refresh_from_db()
    if not claimed:
        return batch
    source, target = batch.source, batch.target
    numbers: list[str] = batch.member_numbers
    while batch.processed < batch.total:
        chunk = numbers[batch.processed : batch.processed + BATCH_CHUNK]
        # Asked again for every chunk: a suspension stops the rest of a running batch. Why it
        # stopped is stored, and either company reads it through the API: in English, as the
        # API answers by default (a task has no reader's language).
        try:
            with translation.override("en"):
                terms = terms_to_enroll(source, target)
        except ApplicationError as refused:
            _finish(batch, EnrollmentBatch.Status.FAILED, refused.message)
            batch.refresh_from_db()
            return batch
        if not _enroll_chunk(batch, chunk, terms):
            break
        batch.refresh_from_db()
    if batch.processed < batch.total:  # overtaken, or ended by another run
        batch.refresh_from_db()
        return batch
    # ignore_conflicts hides which rows lost a race: count what really is this batch's.
    with transaction.atomic():
        enrolled = Enrollment.objects.filter(batch=batch).count()
        if _finish(batch, EnrollmentBatch.Status.DONE, "", enrolled=enrolled):
            webhook_emit(
                partner=target,
                event_type="enrollment.batch_completed",
                data={"batch_id": str(batch.pk), "source": source.slug, "enrolled": enrolled},
            )
    batch.refresh_from_db()
    return batch


def _enroll_chunk(batch: EnrollmentBatch, chunk: list[str], terms: TermsInForce) -> bool:
    """Enroll one chunk of a batch and move its progress on, in one transaction. False if
    another run of the batch moved it on first (then this chunk is rolled back)."""
    with transaction.atomic():
        created = _insert_chunk(batch, chunk, terms)
        # Only from the progress this run read: a second run of the same batch (a message
        # delivered twice) that got further first wins, and this chunk is rolled back.
        moved = EnrollmentBatch.objects.filter(
            pk=batch.pk, status=EnrollmentBatch.Status.RUNNING, processed=batch.processed
        ).update(processed=batch.processed + len(chunk), enrolled=batch.enrolled + created)
        if not moved:
            transaction.set_rollback(True)
    return bool(moved)


def _insert_chunk(batch: EnrollmentBatch, chunk: list[str], terms: TermsInForce) -> int:
    """One query selects the chunk's eligible members (active, both consents in force, not
    already enrolled) and one insert enrolls them; returns how many it enrolled."""
    source, target = batch.source, batch.target
    eligible = (
        MemberAccount.objects.filter(
            partner=source, member_number__in=chunk, status=MemberAccount.Status.ACTIVE
        )
        .filter(pk__in=consented_member_ids(purpose_code=REQUIRED_CONSENTS[0], recipient=target))
        .filter(pk__in=consented_member_ids(purpose_code=REQUIRED_CONSENTS[1], recipient=target))
        .exclude(
            pk__in=Enrollment.objects.filter(target=target, status__in=LIVE).values("member_id")
        )
        .values_list("pk", flat=True)
    )
    created = Enrollment.objects.bulk_create(
        [
            Enrollment(
                member_id=member_id,
                source=source,
                target=target,
                agreement=terms.agreement,
                fields=batch.fields,
                requested_by=batch.requested_by,
                batch=batch,
            )
            for member_id in eligible
        ],
        ignore_conflicts=True,  # a single request that won a race stays the one
    )
    return len(created)


def enrollment_batch_abandon(*, batch_id: Any, error: str) -> bool:
    """Mark a batch that cannot finish (its task gave up) as failed; what it enrolled stays."""
    batch = EnrollmentBatch.objects.filter(pk=batch_id).first()
    return batch is not None and _finish(batch, EnrollmentBatch.Status.FAILED, error)


def _finish(batch: EnrollmentBatch, status: str, error: str, **values: Any) -> bool:
    """End a batch still queued or running, with its audit event; False if another run ended
    it first (and then it records nothing)."""
    with transaction.atomic():
        ended = EnrollmentBatch.objects.filter(
            pk=batch.pk,
            status__in=[EnrollmentBatch.Status.QUEUED, EnrollmentBatch.Status.RUNNING],
        ).update(status=status, error=error[:300], finished_at=timezone.now(), **values)
        if ended:
            batch.refresh_from_db()
            audit_asked(
                FederationAuditAction.ENROLLMENT_BATCH_FINISHED
                if status == EnrollmentBatch.Status.DONE
                else FederationAuditAction.ENROLLMENT_BATCH_ABANDONED,
                Actor.system(),
                batch,
                status=status,
                processed=batch.processed,
                enrolled=batch.enrolled,
                error=batch.error,
            )
    return bool(ended)
