"""The gates every enrollment passes, each time it is used: the agreement in force, the
member's two consents, and the fields both the agreement and the notice allow; and the audit
event of what a source asks (an enrollment, a campaign)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from consent.errors import ConsentErrorCode
from consent.selectors import consent_check, notice_in_force
from federation.agreements.selectors import TermsInForce, terms_in_force
from federation.audit import FederationAuditAction, audit
from federation.enrollment.models import Enrollment, EnrollmentBatch
from federation.errors import FederationErrorCode
from partners.actors import Actor
from partners.errors import ApplicationError, validation_failed
from partners.models import MemberAccount, Partner

PURPOSE = "cross_enrollment"
# Joining a program means the target receives the member's profile: both consents are needed.
REQUIRED_CONSENTS = ("cross_enrollment", "profile_sharing")
LIVE = (Enrollment.Status.ACTIVE, Enrollment.Status.CONFIRMED)


def no_agreement_to_enroll(source: Partner, target_slug: str) -> ApplicationError:
    """The refusal when no agreement in force lets ``source`` enroll with the target. The API
    gives the same words for a company it does not know, so the two cannot be told apart."""
    return ApplicationError(
        FederationErrorCode.NO_AGREEMENT,
        _("No active agreement lets %(source)s enroll its members with %(target)s.")
        % {"source": source.slug, "target": target_slug},
    )


def terms_to_enroll(source: Partner, target: Partner, *, day: date | None = None) -> TermsInForce:
    """The terms in force that let ``source`` enroll its members with ``target``. Raises
    no_agreement."""
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
        raise validation_failed("target", _("A member is already in its own company's program."))
    # The agreement first: a company with none learns nothing about the target from the answer.
    terms = terms_to_enroll(source, target)
    if not target.is_active or not target.holds_customer_data:
        raise validation_failed("target", _("This company runs no member program to join."))
    notice = notice_in_force()
    noticed = set(notice.conditions["data_items"]) if notice is not None else set()
    allowed = sorted(set(terms.fields) & noticed)
    wanted = sorted(set(requested)) if requested else allowed
    refused = [field for field in wanted if field not in allowed]
    if refused:
        named = {"refused": ", ".join(refused), "allowed": ", ".join(allowed)}
        raise validation_failed(
            "fields",
            _("Not allowed for this enrollment: %(refused)s. Allowed: %(allowed)s.") % named
            if allowed
            else _("Not allowed for this enrollment: %(refused)s. Allowed: none.") % named,
        )
    if not wanted:
        raise validation_failed("fields", _("The agreement and the notice allow no field."))
    return terms, wanted


def check_consents(member: MemberAccount, target: Partner) -> None:
    """Raises consent_required unless ``member`` consents now to both purposes with
    ``target``."""
    for purpose in REQUIRED_CONSENTS:
        decision = consent_check(member_id=member.pk, purpose_code=purpose, recipient=target)
        if not decision.allowed:
            raise ApplicationError(
                ConsentErrorCode.CONSENT_REQUIRED,
                _("The member's consent to %(purpose)s with %(target)s is not in force (%(why)s).")
                % {"purpose": purpose, "target": target.slug, "why": decision.reason},
            )


def audit_asked(
    action: FederationAuditAction,
    actor: Actor,
    asked: Enrollment | EnrollmentBatch,
    **detail: Any,
) -> None:
    """Record ``action`` on what a source asked of a target (an enrollment, a campaign) in the
    source's audit log, naming the target."""
    audit(action, actor, asked, partner=asked.source, target=asked.target.slug, **detail)
