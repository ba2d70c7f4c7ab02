"""What the agreement services share: their refusals, the audit event and the webhook every
party is told by, and the locked agreement whose status they change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from federation.agreements.models import Agreement, AgreementVersion
from federation.audit import FederationAuditAction, audit
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import Partner
from partners.services import webhook_emit


def invalid(fields: dict[str, list[str]], message: str | None = None) -> ApplicationError:
    """validation_failed naming ``fields``; the messages are in the active language."""
    return ApplicationError(
        ErrorCode.VALIDATION_FAILED,
        message or _("The agreement is not valid."),
        fields=fields,
    )


def conflict(message: str) -> ApplicationError:
    return ApplicationError(ErrorCode.CONFLICT, message)


def audit_agreement(
    action: FederationAuditAction,
    actor: Actor,
    agreement: Agreement,
    *,
    partner: Partner | None = None,
    **detail: Any,
) -> None:
    """Record ``action`` on ``agreement`` in the audit log of ``partner`` (its host unless
    named: the host keeps the agreement's record)."""
    audit(action, actor, agreement, partner=partner or agreement.host, **detail)


def locked(agreement_id: Any) -> Agreement:
    """The agreement, its row locked until the transaction ends, with its host."""
    return Agreement.objects.select_for_update().select_related("host").get(pk=agreement_id)


def set_status(agreement: Agreement, status: str, reason: str = "") -> None:
    agreement.status = status
    agreement.status_reason = reason[:300]
    agreement.updated_at = timezone.now()
    agreement.save(update_fields=["status", "status_reason", "updated_at"])


def tell_parties(
    version: AgreementVersion,
    event_type: str,
    *,
    partners: Sequence[Partner] | None = None,
    **extra: Any,
) -> None:
    """Send ``event_type`` about ``version`` to its parties, or to ``partners``."""
    agreement = version.agreement
    if partners is None:
        partners = [party.partner for party in version.parties.select_related("partner")]
    for partner in partners:
        webhook_emit(
            partner=partner,
            event_type=event_type,
            data={
                "agreement_id": str(agreement.pk),
                "title": agreement.title,
                "status": agreement.status,
                "version": version.number,
                "effective_from": version.effective_from.isoformat(),
                "valid_until": version.valid_until.isoformat(),
                **extra,
            },
        )
