"""Object permissions: what each partner may see, granted per object with django-guardian."""

from collections.abc import Callable

from django.contrib.auth.models import Group
from django.db import models, transaction
from guardian.shortcuts import assign_perm, remove_perm

from partners.actors import Actor
from partners.models import AuditEvent, Partner
from partners.services.audit import audit_record


def _change_grants(
    *,
    partner: Partner,
    obj: models.Model,
    perms: tuple[str, ...],
    actor: Actor,
    change: Callable[[str, Group, models.Model], object],
    action: AuditEvent.Action,
) -> None:
    codenames = [f"{perm}_{obj._meta.model_name}" for perm in perms]
    with transaction.atomic():
        for codename in codenames:
            change(codename, partner.group, obj)
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
        partner=partner,
        obj=obj,
        perms=perms,
        actor=actor,
        change=assign_perm,
        action=AuditEvent.Action.PERMISSION_GRANTED,
    )


def partner_revoke_grant(
    *, partner: Partner, obj: models.Model, perms: tuple[str, ...], actor: Actor
) -> None:
    """Withdraw object permissions granted with ``partner_grant``."""
    _change_grants(
        partner=partner,
        obj=obj,
        perms=perms,
        actor=actor,
        change=remove_perm,
        action=AuditEvent.Action.PERMISSION_REMOVED,
    )
