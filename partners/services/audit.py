import logging
from typing import Any

from django.db import models

from partners.actors import Actor
from partners.audit_actions import AUDIT_ACTIONS
from partners.crypto import DataIntegrityError, DataKeyUnavailableError, UndecryptableError
from partners.models import AuditEvent, Partner

logger = logging.getLogger(__name__)


def audit_record(
    *,
    action: str,
    actor: Actor,
    partner: Partner | None = None,
    target: models.Model | None = None,
    outcome: AuditEvent.Outcome = AuditEvent.Outcome.SUCCESS,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event. Call it inside the transaction of the action it records.

    Raises ValueError for an action no app registered (partners.audit_actions)."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"Unregistered audit action {action!r}")
    return AuditEvent.objects.create(
        action=action,
        outcome=outcome,
        actor_user=actor.user,
        actor_api_key=actor.api_key,
        actor_label=actor.label[:200],
        partner=partner,
        object_type=target._meta.label if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        object_repr=str(target)[:200] if target is not None else "",
        detail=detail or {},
        ip_address=actor.ip_address,
    )


def audit_undecryptable(
    *,
    error: UndecryptableError,
    actor: Actor,
    partner: Partner | None = None,
    target: models.Model | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent | None:
    """Record stored data that could not be read as a security event (outcome denied):
    ``data.integrity_failed`` when it does not authenticate, ``data.key_unavailable`` when its
    key is not configured. An erasure is no incident: returns None and records nothing.

    The action that hit the error is refused and its transaction rolls back, so call this
    after that transaction has ended (the API base does, once the handler's transaction is
    over); inside it, the record of the refusal would roll back with the refusal.
    """
    if isinstance(error, DataIntegrityError):
        action = AuditEvent.Action.DATA_INTEGRITY_FAILED
    elif isinstance(error, DataKeyUnavailableError):
        action = AuditEvent.Action.DATA_KEY_UNAVAILABLE
    else:
        return None
    target = target if target is not None else error.target
    logger.warning(
        "%s at %s (%s %s): %s",
        action.value,
        error.location or "?",
        target._meta.label if target is not None else "-",
        target.pk if target is not None else "-",
        error,
    )
    return audit_record(
        action=action,
        actor=actor,
        partner=partner,
        target=target,
        outcome=AuditEvent.Outcome.DENIED,
        detail={"reason": str(error)[:500], "location": error.location, **(detail or {})},
    )
