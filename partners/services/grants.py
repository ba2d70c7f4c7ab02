"""Object permissions: what each partner may see, granted per object with django-guardian."""

from django.db import models, transaction
from guardian.shortcuts import assign_perm, remove_perm

from partners.actors import Actor
from partners.models import AuditEvent, Partner
from partners.services.audit import audit_record


def partner_grant(
    *, partner: Partner, obj: models.Model, perms: tuple[str, ...], actor: Actor
) -> None:
    """Grant ``partner`` object permissions on ``obj`` (e.g. perms=("view", "change"))."""
    model_name = obj._meta.model_name
    codenames = [f"{perm}_{model_name}" for perm in perms]
    with transaction.atomic():
        for codename in codenames:
            assign_perm(codename, partner.group, obj)
        audit_record(
            action=AuditEvent.Action.PERMISSION_GRANTED,
            actor=actor,
            partner=partner,
            target=obj,
            detail={"permissions": codenames},
        )


def partner_revoke_grant(
    *, partner: Partner, obj: models.Model, perms: tuple[str, ...], actor: Actor
) -> None:
    model_name = obj._meta.model_name
    codenames = [f"{perm}_{model_name}" for perm in perms]
    with transaction.atomic():
        for codename in codenames:
            remove_perm(codename, partner.group, obj)
        audit_record(
            action=AuditEvent.Action.PERMISSION_REMOVED,
            actor=actor,
            partner=partner,
            target=obj,
            detail={"permissions": codenames},
        )
