"""An agreement's life once agreed: suspended and resumed, terminated, and expired when its
terms run out (the daily task). Each change is told to every company the agreement binds."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from federation.agreements.models import Agreement, AgreementVersion
from federation.agreements.selectors import version_in_force
from federation.agreements.services import common
from federation.audit import FederationAuditAction
from partners.actors import Actor
from partners.models import Partner


def agreement_suspend(*, agreement: Agreement, reason: str, actor: Actor) -> Agreement:
    """Stop everything the agreement allows at once, until it is resumed."""
    return _transition(
        agreement,
        allowed_from=(Agreement.Status.ACTIVE,),
        to=Agreement.Status.SUSPENDED,
        reason=reason,
        event_type="agreement.suspended",
        audit=FederationAuditAction.AGREEMENT_SUSPENDED,
        actor=actor,
    )


def agreement_resume(*, agreement: Agreement, actor: Actor) -> Agreement:
    return _transition(
        agreement,
        allowed_from=(Agreement.Status.SUSPENDED,),
        to=Agreement.Status.ACTIVE,
        reason="",
        event_type="agreement.resumed",
        audit=FederationAuditAction.AGREEMENT_RESUMED,
        actor=actor,
    )


def agreement_terminate(*, agreement: Agreement, reason: str, actor: Actor) -> Agreement:
    """End the agreement for good; an open proposal lapses with it (its parties are told the
    agreement ended)."""
    with transaction.atomic():
        agreement = _transition(
            agreement,
            allowed_from=(
                Agreement.Status.DRAFT,
                Agreement.Status.PROPOSED,
                Agreement.Status.ACTIVE,
                Agreement.Status.SUSPENDED,
            ),
            to=Agreement.Status.TERMINATED,
            reason=reason,
            event_type="agreement.terminated",
            audit=FederationAuditAction.AGREEMENT_TERMINATED,
            actor=actor,
        )
        agreement.versions.filter(status__in=AgreementVersion.OPEN).update(
            status=AgreementVersion.Status.WITHDRAWN
        )
    return agreement


def agreements_expire(*, today: date | None = None) -> int:
    """Mark active agreements whose terms in force have run out as expired (the daily task),
    and tell their parties. What they allow already ends with the date, task or not."""
    today = today or timezone.localdate()
    expired = 0
    for agreement in Agreement.objects.filter(status=Agreement.Status.ACTIVE):
        if version_in_force(agreement, today) is not None:
            continue
        later = agreement.versions.filter(
            status=AgreementVersion.Status.SIGNED, effective_from__gt=today
        ).exists()
        if later:  # signed terms that start later: between versions, not ended
            continue
        with transaction.atomic():
            agreement = common.locked(agreement.pk)
            if agreement.status != Agreement.Status.ACTIVE:
                continue
            # Stored, and read by every party through the API: in English, like every reason.
            common.set_status(agreement, Agreement.Status.EXPIRED, "The terms in force ran out.")
            _tell_the_bound(agreement, "agreement.expired")
            common.audit_agreement(
                FederationAuditAction.AGREEMENT_EXPIRED, Actor.system(), agreement
            )
            expired += 1
    return expired


def _transition(
    agreement: Agreement,
    *,
    allowed_from: tuple[str, ...],
    to: str,
    reason: str,
    event_type: str,
    audit: FederationAuditAction,
    actor: Actor,
) -> Agreement:
    if to != Agreement.Status.ACTIVE and not reason.strip():
        raise common.invalid({"reason": [_("Give the reason; every party is told it.")]})
    with transaction.atomic():
        agreement = common.locked(agreement.pk)
        if agreement.status not in allowed_from:
            raise common.conflict(
                _("A %(status)s agreement cannot become %(to)s.")
                % {
                    "status": agreement.get_status_display().lower(),
                    "to": Agreement.Status(to).label.lower(),
                }
            )
        common.set_status(agreement, to, reason)
        _tell_the_bound(agreement, event_type, reason=reason.strip()[:300])
        common.audit_agreement(audit, actor, agreement, reason=reason.strip()[:300])
    return agreement


def _tell_the_bound(agreement: Agreement, event_type: str, **extra: Any) -> None:
    """Tell a change of the whole agreement to the companies it binds: the parties to the
    version in force (or, when none is, the latest signed one), to signed versions still to
    take effect, and those asked to sign an open proposal. A company named only in a draft has
    not been asked anything yet, and one that no version binds any longer is not told."""
    today = timezone.localdate()
    versions = list(
        agreement.versions.filter(
            status__in=[AgreementVersion.Status.SIGNED, AgreementVersion.Status.PROPOSED]
        ).order_by("-number")
    )
    signed = [v for v in versions if v.status == AgreementVersion.Status.SIGNED]
    current = version_in_force(agreement, today) or (signed[0] if signed else None)
    bound = [
        version
        for version in versions
        if version.status == AgreementVersion.Status.PROPOSED
        or version == current
        or (current is not None and version.number > current.number)
    ]
    if not bound:
        return
    partners: dict[Any, Partner] = {}
    for version in bound:
        for party in version.parties.select_related("partner"):
            partners.setdefault(party.partner_id, party.partner)
    about = current or bound[0]
    about.agreement = agreement
    common.tell_parties(about, event_type, partners=list(partners.values()), **extra)
