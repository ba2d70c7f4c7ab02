"""Mutual member enrollment: a member of one company joins a partner's program.

Three gates, every time: an active agreement whose terms in force let the source give the
target this member for cross-enrollment (``terms_in_force``), the member's consent to
cross-enrollment *and* to profile sharing with the target (``consent_check``), and fields
within both the agreement's flow and the notice the member consented under. Sanpo keeps no copy
for the target: the target reads the member's allowed fields through the API, each read passes
the gates again at that moment and is recorded as a provision. So ending the enrollment,
withdrawing consent or suspending the agreement stops the sharing at once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from consent.errors import ConsentErrorCode
from consent.selectors import consent_check, consented_member_ids, notice_in_force
from consent.services import provision_record
from federation.agreements.selectors import TermsInForce, terms_in_force
from federation.agreements.terms import PERSONAL_FIELDS
from federation.audit import FederationAuditAction, audit
from federation.enrollment.models import Enrollment, EnrollmentBatch
from federation.errors import FederationErrorCode
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode, validation_failed
from partners.models import MemberAccount, Partner
from partners.normalize import InvalidValueError, age_band, normalize_member_number
from partners.pii import pseudonym_for
from partners.services import webhook_emit
from partners.services.member_records import open_member
from partners.tasking import enqueue_on_commit

PURPOSE = "cross_enrollment"
# Joining a program means the target receives the member's profile: both consents are needed.
REQUIRED_CONSENTS = ("cross_enrollment", "profile_sharing")
LIVE = (Enrollment.Status.ACTIVE, Enrollment.Status.CONFIRMED)
RUN_ENROLLMENT_BATCH = "federation.tasks.run_enrollment_batch"
MAX_BATCH_MEMBERS = 50_000  # fits the 1 MiB request body limit with 18-character numbers
BATCH_CHUNK = 5_000


def no_agreement_to_enroll(source: Partner, target_slug: str) -> ApplicationError:
    """The refusal when no agreement in force lets ``source`` enroll with the target. The API
    gives the same words for a company it does not know, so the two cannot be told apart."""
    return ApplicationError(
        FederationErrorCode.NO_AGREEMENT,
        f"No active agreement lets {source.slug} enroll its members with {target_slug}.",
    )


def _terms(source: Partner, target: Partner, *, day: date | None = None) -> TermsInForce:
    terms = terms_in_force(provider=source, recipient=target, purpose=PURPOSE, day=day)
    if terms is None:
        raise no_agreement_to_enroll(source, target.slug)
    return terms


def enrollment_fields(
    *, source: Partner, target: Partner, requested: Sequence[str] | None
) -> tuple[TermsInForce, list[str]]:
    """The terms in force and the fields the target will receive: those asked for (all allowed
    ones if none), each within the agreement's flow and the notice in force. Raises
    no_agreement, or validation_failed naming the fields that are not allowed."""
    if source.pk == target.pk:
        raise validation_failed("target", "A member is already in its own company's program.")
    # The agreement first: a company with none learns nothing about the target from the answer.
    terms = _terms(source, target)
    if not target.is_active or not target.holds_customer_data:
        raise validation_failed("target", "This company runs no member program to join.")
    notice = notice_in_force()
    noticed = set(notice.conditions["data_items"]) if notice is not None else set()
    allowed = sorted(set(terms.fields) & noticed)
    wanted = sorted(set(requested)) if requested else allowed
    refused = [field for field in wanted if field not in allowed]
    if refused:
        raise validation_failed(
            "fields",
            f"Not allowed for this enrollment: {', '.join(refused)}. Allowed: "
            f"{', '.join(allowed) or 'none'}.",
        )
    if not wanted:
        raise validation_failed("fields", "The agreement and the notice allow no field.")
    return terms, wanted


def _consented(member: MemberAccount, target: Partner) -> None:
    for purpose in REQUIRED_CONSENTS:
        decision = consent_check(member_id=member.pk, purpose_code=purpose, recipient=target)
        if not decision.allowed:
            raise ApplicationError(
                ConsentErrorCode.CONSENT_REQUIRED,
                f"The member's consent to {purpose} with {target.slug} is not in force "
                f"({decision.reason}).",
            )


def enrollment_request(
    *,
    member: MemberAccount,
    target: Partner,
    fields: Sequence[str] | None,
    actor: Actor,
) -> Enrollment:
    """Enroll ``member`` (an account of its own company, the source) in ``target``'s program.

    Raises ApplicationError: no_agreement, consent_required, validation_failed (fields, target,
    an inactive member), conflict if the member is already enrolled there.
    """
    source = member.partner
    terms, wanted = enrollment_fields(source=source, target=target, requested=fields)
    if member.status != MemberAccount.Status.ACTIVE:
        raise validation_failed("member", "Only an active member can join another program.")
    try:
        with transaction.atomic():
            # The member's row lock queues concurrent requests for the same member, so the
            # second sees the first's enrollment (the unique index is the last line).
            MemberAccount.objects.select_for_update().filter(pk=member.pk).first()
            _consented(member, target)
            if Enrollment.objects.filter(member=member, target=target, status__in=LIVE).exists():
                raise ApplicationError(
                    ErrorCode.CONFLICT, f"The member is already enrolled with {target.slug}."
                )
            enrollment = Enrollment.objects.create(
                member=member,
                source=source,
                target=target,
                agreement=terms.agreement,
                fields=wanted,
                requested_by=actor.label[:200],
            )
            audit(
                FederationAuditAction.ENROLLMENT_REQUESTED,
                actor,
                enrollment,
                partner=source,
                target=target.slug,
                fields=wanted,
            )
            webhook_emit(
                partner=target,
                event_type="enrollment.requested",
                data={
                    "enrollment_id": str(enrollment.pk),
                    "member": pseudonym_for(member.pk, target.pk),
                    "source": source.slug,
                    "fields": wanted,
                    "agreement_id": str(terms.agreement.pk),
                },
            )
    except IntegrityError:
        raise ApplicationError(
            ErrorCode.CONFLICT, f"The member is already enrolled with {target.slug}."
        ) from None
    return enrollment


def enrollment_member_data(*, enrollment: Enrollment, actor: Actor) -> dict[str, Any]:
    """The member's allowed fields for the target, under its pseudonymous id: the gates are
    passed again now, and the provision is recorded in the same transaction.

    Raises ApplicationError: conflict (ended), no_agreement, consent_required.
    """
    with transaction.atomic():
        # Read at the moment of use, and hold it: an un-enrollment waits for this read.
        enrollment = (
            Enrollment.objects.select_for_update(no_key=True, of=("self",))
            .select_related("source", "target", "member")
            .get(pk=enrollment.pk)
        )
        if enrollment.status == Enrollment.Status.ENDED:
            raise ApplicationError(ErrorCode.CONFLICT, "This enrollment has ended.")
        source, target, member = enrollment.source, enrollment.target, enrollment.member
        terms = _terms(source, target)
        fields = [field for field in enrollment.fields if field in terms.fields]
        if not fields:
            raise ApplicationError(
                FederationErrorCode.NO_AGREEMENT, "The agreement no longer allows any field."
            )
        _consented(member, target)
        try:
            provision_record(
                member=member,
                recipient=target,
                purpose_code="profile_sharing",
                data_items=fields,
                actor=actor,
            )
        except ApplicationError as refused:
            if refused.code == ErrorCode.PERMISSION_DENIED:  # withdrawn since the check above
                raise ApplicationError(ConsentErrorCode.CONSENT_REQUIRED, refused.message) from None
            raise
        personal = open_member(member, tuple(f for f in fields if f in PERSONAL_FIELDS))
    segments = {
        "age_band": age_band(member.birth_year, today=timezone.localdate()),
        "prefecture": member.prefecture or None,
        "kind": member.kind,
    }
    values = {field: personal.get(field, segments.get(field)) for field in fields}
    return {"member": pseudonym_for(member.pk, target.pk), "fields": values}


def enrollment_confirm(
    *, enrollment: Enrollment, target_member_number: str, actor: Actor
) -> Enrollment:
    """The target confirms with the member number it gave the member, linking the accounts.
    Confirming again with the same number changes nothing."""
    try:
        number = normalize_member_number(target_member_number)
    except InvalidValueError as error:
        raise validation_failed("member_number", str(error)) from None
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
            if enrollment.status == Enrollment.Status.CONFIRMED:
                if enrollment.target_member_number == number:
                    return enrollment
                raise ApplicationError(
                    ErrorCode.CONFLICT, "This enrollment was confirmed with another number."
                )
            if enrollment.status != Enrollment.Status.ACTIVE:
                raise ApplicationError(ErrorCode.CONFLICT, "This enrollment has ended.")
            _terms(enrollment.source, enrollment.target)  # linking accounts is a use too
            enrollment.status = Enrollment.Status.CONFIRMED
            enrollment.target_member_number = number
            enrollment.confirmed_at = timezone.now()
            enrollment.save(update_fields=["status", "target_member_number", "confirmed_at"])
            audit(
                FederationAuditAction.ENROLLMENT_CONFIRMED,
                actor,
                enrollment,
                partner=enrollment.target,
            )
            webhook_emit(
                partner=enrollment.source,
                event_type="enrollment.confirmed",
                data={"enrollment_id": str(enrollment.pk), "target": enrollment.target.slug},
            )
    except IntegrityError:
        raise ApplicationError(
            ErrorCode.CONFLICT, "This member number already belongs to another enrollment."
        ) from None
    return enrollment


def enrollment_end(*, enrollment: Enrollment, reason: str, actor: Actor) -> Enrollment:
    """Un-enroll: the target reads nothing more from now on. Ending twice changes nothing."""
    with transaction.atomic():
        enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        if enrollment.status == Enrollment.Status.ENDED:
            return enrollment
        enrollment.status = Enrollment.Status.ENDED
        enrollment.ended_at = timezone.now()
        enrollment.ended_reason = (reason.strip() or "ended")[:300]
        enrollment.save(update_fields=["status", "ended_at", "ended_reason"])
        audit(
            FederationAuditAction.ENROLLMENT_ENDED,
            actor,
            enrollment,
            partner=actor.partner or enrollment.source,
            reason=enrollment.ended_reason,
        )
        for partner in (enrollment.source, enrollment.target):
            webhook_emit(
                partner=partner,
                event_type="enrollment.ended",
                data={
                    "enrollment_id": str(enrollment.pk),
                    # The company, not its key or its staff member's name.
                    "ended_by": actor.partner.slug if actor.partner else "sanpo",
                    "reason": enrollment.ended_reason,
                },
            )
    return enrollment


# --- Many at once ----------------------------------------------------------------------------


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
            "member_numbers", f"Give from 1 to {MAX_BATCH_MEMBERS:,} member numbers."
        )
    _, wanted = enrollment_fields(source=source, target=target, requested=fields)
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
        audit(
            FederationAuditAction.ENROLLMENT_BATCH_STARTED,
            actor,
            batch,
            partner=source,
            target=target.slug,
            members=len(numbers),
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
        # Asked again for every chunk: a suspension stops the rest of a running batch.
        try:
            terms = _terms(source, target)
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
            audit(
                FederationAuditAction.ENROLLMENT_BATCH_FINISHED
                if status == EnrollmentBatch.Status.DONE
                else FederationAuditAction.ENROLLMENT_BATCH_ABANDONED,
                Actor.system(),
                batch,
                partner=batch.source,
                target=batch.target.slug,
                status=status,
                processed=batch.processed,
                enrolled=batch.enrolled,
                error=batch.error,
            )
    return bool(ended)
