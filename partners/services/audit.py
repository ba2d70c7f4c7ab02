from typing import Any

from django.db import models

from partners.actors import Actor
from partners.models import AuditEvent, Partner


def audit_record(
    *,
    action: AuditEvent.Action,
    actor: Actor,
    partner: Partner | None = None,
    target: models.Model | None = None,
    outcome: AuditEvent.Outcome = AuditEvent.Outcome.SUCCESS,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event. Call it inside the transaction of the action it records."""
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
