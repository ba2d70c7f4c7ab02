"""Reads of enrollment: what became of each member number a campaign (a batch) was sent.

A batch records how many it processed and enrolled, not why a number was left out: the task
enrolls in set-based steps and keeps no row per number. So the outcome of a number not enrolled
is read now, by the same gates the batch applies (``services.batches._insert_chunk``: an active
account, both consents in force with the target, not already enrolled there), and says so: a
consent given or withdrawn since the batch ran shows as it stands today."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from consent.selectors import consented_member_ids
from federation.enrollment.models import Enrollment, EnrollmentBatch
from federation.enrollment.services.gates import LIVE, REQUIRED_CONSENTS
from partners.models import MemberAccount


class BatchOutcome(models.TextChoices):
    """Why a number of a batch was or was not enrolled: one code, or several where a member
    fails more than one gate (both consents missing)."""

    ENROLLED = "enrolled", _("Enrolled by this batch")
    PENDING = "pending", _("Not processed yet")
    NOT_REACHED = "not_reached", _("Not reached: the batch stopped before this number")
    UNKNOWN_NUMBER = "unknown_number", _("The source has no member with this number")
    NOT_ACTIVE = "not_active", _("The member's account is not active")
    NO_CROSS_ENROLLMENT = (
        "no_consent_cross_enrollment",
        _("The member has not consented to cross-enrollment with the target"),
    )
    NO_PROFILE_SHARING = (
        "no_consent_profile_sharing",
        _("The member has not consented to profile sharing with the target"),
    )
    ALREADY_ENROLLED = "already_enrolled", _("Already enrolled in the target's program")
    ELIGIBLE_NOW = (
        "eligible_now",
        _("Eligible today: a consent or an enrollment changed after the batch ran"),
    )


MISSING_CONSENT = {
    REQUIRED_CONSENTS[0]: BatchOutcome.NO_CROSS_ENROLLMENT,
    REQUIRED_CONSENTS[1]: BatchOutcome.NO_PROFILE_SHARING,
}


@dataclass(frozen=True)
class MemberOutcome:
    """One number of a batch: what became of it, and the enrollment it made, if any."""

    position: int  # from 1, in the batch's (sorted) order
    member_number: str
    outcomes: tuple[BatchOutcome, ...]
    enrollment: Enrollment | None = None

    @property
    def enrolled(self) -> bool:
        return BatchOutcome.ENROLLED in self.outcomes


def batch_member_outcomes(
    batch: EnrollmentBatch, *, start: int = 0, count: int = 100
) -> list[MemberOutcome]:
    """The outcomes of ``count`` numbers of ``batch`` from position ``start`` (from 0), in
    five queries whatever ``count``: the accounts, this batch's enrollments, the two consents
    and the live enrollments with the target. Never reads a member's personal data."""
    numbers: Sequence[str] = batch.member_numbers[start : start + count]
    rows = (
        MemberAccount.objects.filter(partner_id=batch.source_id, member_number__in=numbers)
        .order_by()
        .values_list("member_number", "pk", "status")
    )
    accounts = {number: pk for number, pk, _status in rows}
    active = {pk for _number, pk, status in rows if status == MemberAccount.Status.ACTIVE}
    ids = list(accounts.values())
    enrolled = {
        enrollment.member_id: enrollment
        for enrollment in Enrollment.objects.filter(batch=batch, member_id__in=ids)
    }
    consented = {
        purpose: set(
            consented_member_ids(purpose_code=purpose, recipient=batch.target).filter(
                member_id__in=ids
            )
        )
        for purpose in REQUIRED_CONSENTS
    }
    elsewhere = set(
        Enrollment.objects.filter(target_id=batch.target_id, status__in=LIVE, member_id__in=ids)
        .exclude(batch=batch)
        .values_list("member_id", flat=True)
    )
    facts = _Facts(accounts, active, enrolled, consented, elsewhere)
    return [
        _outcome_of(batch, start + offset, number, facts) for offset, number in enumerate(numbers)
    ]


@dataclass(frozen=True)
class _Facts:
    accounts: dict[str, Any]
    active: set[Any]
    enrolled: dict[Any, Enrollment]
    consented: dict[str, set[Any]]
    elsewhere: set[Any]


def _outcome_of(batch: EnrollmentBatch, index: int, number: str, facts: _Facts) -> MemberOutcome:
    member_id = facts.accounts.get(number)
    enrollment = facts.enrolled.get(member_id)
    if enrollment is not None:
        return MemberOutcome(index + 1, number, (BatchOutcome.ENROLLED,), enrollment)
    if index >= batch.processed:
        unfinished = batch.status in (EnrollmentBatch.Status.QUEUED, EnrollmentBatch.Status.RUNNING)
        why = BatchOutcome.PENDING if unfinished else BatchOutcome.NOT_REACHED
        return MemberOutcome(index + 1, number, (why,))
    if member_id is None:
        return MemberOutcome(index + 1, number, (BatchOutcome.UNKNOWN_NUMBER,))
    reasons: list[BatchOutcome] = []
    if member_id not in facts.active:
        reasons.append(BatchOutcome.NOT_ACTIVE)
    reasons += [
        MISSING_CONSENT[purpose]
        for purpose in REQUIRED_CONSENTS
        if member_id not in facts.consented[purpose]
    ]
    if member_id in facts.elsewhere:
        reasons.append(BatchOutcome.ALREADY_ENROLLED)
    return MemberOutcome(index + 1, number, tuple(reasons or [BatchOutcome.ELIGIBLE_NOW]))
