"""Object permissions: what each partner may see, granted per object with django-guardian."""

from collections.abc import Callable

from django.contrib.auth.models import Group
from django.db import models, transaction
from guardian.shortcuts import assign_perm, remove_perm

from partners.actors import Actor
from partners.models import AuditEvent, Partner
from partners.services.audit import audit_record

# Each change of grants, by the audit action that records it.
_CHANGES: dict[str, Callable[[str, Group, models.Model], object]] = {
    AuditEvent.Action.PERMISSION_GRANTED: assign_perm,
    AuditEvent.Action.PERMISSION_REMOVED: remove_perm,
}


def _change_grants(
    action: AuditEvent.Action,
    *,
    partner: Partner,
    obj: models.Model,
    perms: tuple[str, ...],
    actor: Actor,
) -> None:
    codenames = [f"{perm}_{obj._meta.model_name}" for perm in perms]
    with transaction.atomic():
        for codename in codenames:
            _CHANGES[action](codename, partner.group, obj)
        audit_record(
            action=action,
            actor=actor,
            partner=partner,
            target=obj,
            detail={"permissions": codenames},
        )


def partner_grant(
    *, partner: Partner, obj: models.Model, perms: tuple[str, ...], actor: Actor
) -> None:
    """Grant ``partner`` object permissions on ``obj`` (e.g. perms=("view", "change"))."""
    _change_grants(
        AuditEvent.Action.PERMISSION_GRANTED, partner=partner, obj=obj, perms=perms, actor=actor
    )


def partner_revoke_grant(
    *, partner: Partner, obj: models.Model, perms: tuple[str, ...], actor: Actor
) -> None:
    """Withdraw object permissions granted with ``partner_grant``."""
    _change_grants(
        AuditEvent.Action.PERMISSION_REMOVED, partner=partner, obj=obj, perms=perms, actor=actor
    )
