"""One member's enrollment: requested by the source, its member's data read by the target
(each read through the gates again, and recorded as a provision), confirmed by the target with
its own member number, and ended by either side."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.errors import ConsentErrorCode
from consent.services import provision_record
from federation.agreements.terms import PERSONAL_FIELDS
from federation.audit import FederationAuditAction, audit
from federation.enrollment.models import Enrollment
from federation.enrollment.services.gates import (
    LIVE,
    audit_asked,
    check_consents,
    enrollment_fields,
    terms_to_enroll,
)
from federation.errors import FederationErrorCode
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode, validation_failed
from partners.models import MemberAccount, Partner
from partners.normalize import InvalidValueError, age_band, normalize_member_number
from partners.pii import pseudonym_for
from partners.services import webhook_emit
from partners.services.member_records import open_member


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
        raise validation_failed("member", _("Only an active member can join another program."))
    try:
        with transaction.atomic():
            # The member's row lock queues concurrent requests for the same member, so the
            # second sees the first's enrollment (the unique index is the last line).
            MemberAccount.objects.select_for_update().filter(pk=member.pk).first()
            check_consents(member, target)
            if Enrollment.objects.filter(member=member, target=target, status__in=LIVE).exists():
                raise _already_enrolled(target)
            enrollment = Enrollment.objects.create(
                member=member,
                source=source,
                target=target,
                agreement=terms.agreement,
                fields=wanted,
                requested_by=actor.label[:200],
            )
            audit_asked(
                FederationAuditAction.ENROLLMENT_REQUESTED, actor, enrollment, fields=wanted
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
        raise _already_enrolled(target) from None
    return enrollment


def _already_enrolled(target: Partner) -> ApplicationError:
    return ApplicationError(
        ErrorCode.CONFLICT,
        _("The member is already enrolled with %(target)s.") % {"target": target.slug},
    )


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
            raise ApplicationError(ErrorCode.CONFLICT, _("This enrollment has ended."))
        source, target, member = enrollment.source, enrollment.target, enrollment.member
        terms = terms_to_enroll(source, target)
        fields = [field for field in enrollment.fields if field in terms.fields]
        if not fields:
            raise ApplicationError(
                FederationErrorCode.NO_AGREEMENT, _("The agreement no longer allows any field.")
            )
        check_consents(member, target)
        _record_provision(member, target, fields, actor)
        personal = open_member(member, tuple(f for f in fields if f in PERSONAL_FIELDS))
    segments = {
        "age_band": age_band(member.birth_year, today=timezone.localdate()),
        "prefecture": member.prefecture or None,
        "kind": member.kind,
    }
    values = {field: personal.get(field, segments.get(field)) for field in fields}
    return {"member": pseudonym_for(member.pk, target.pk), "fields": values}


def _record_provision(
    member: MemberAccount, target: Partner, fields: list[str], actor: Actor
) -> None:
    try:
        provision_record(
            member=member,
            recipient=target,
            purpose_code="profile_sharing",
            data_items=fields,
            actor=actor,
        )
    except ApplicationError as refused:
        if refused.code == ErrorCode.PERMISSION_DENIED:  # withdrawn since the check before
            raise ApplicationError(ConsentErrorCode.CONSENT_REQUIRED, refused.message) from None
        raise


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
                    ErrorCode.CONFLICT, _("This enrollment was confirmed with another number.")
                )
            if enrollment.status != Enrollment.Status.ACTIVE:
                raise ApplicationError(ErrorCode.CONFLICT, _("This enrollment has ended."))
            terms_to_enroll(enrollment.source, enrollment.target)  # linking is a use too
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
            ErrorCode.CONFLICT, _("This member number already belongs to another enrollment.")
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
