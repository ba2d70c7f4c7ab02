from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode, validation_failed
from partners.models import AuditEvent, Partner, StaffPreference, StaffRole
from partners.services.audit import audit_record
from partners.services.grants import partner_grant
from partners.services.webhooks import webhook_emit

# Alliance managers run the alliance in the admin. They hold model permissions through this
# group; partner principals never hold any global permission (guardian grants per object).
ALLIANCE_MANAGERS_GROUP = "Alliance managers"
_ALLIANCE_MANAGER_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "auth": {"user": ("view", "add", "change")},
    "partners": {
        "partner": ("view", "add", "change"),
        "partnercontact": ("view", "add", "change", "delete"),
        "staffrole": ("view", "add", "change", "delete"),
        "apikey": ("view", "add", "change"),
        "webhookendpoint": ("view", "add", "change", "delete"),
        "webhookdelivery": ("view",),
        "auditevent": ("view",),
        # Members are erased through a service (crypto-shredding), never deleted.
        "memberaccount": ("view", "add", "change"),
        "memberimport": ("view", "add", "change"),
        "person": ("view",),
    },
}


def partner_create(
    *,
    slug: str,
    name_ja: str,
    name_latin: str,
    kind: str = Partner.Kind.BRAND,
    holds_customer_data: bool = True,
    actor: Actor,
) -> Partner:
    """Create a partner, its guardian principal (an auth group), and let it see itself."""
    with transaction.atomic():
        group = Group.objects.create(name=f"partner:{slug}")
        partner = Partner(
            slug=slug,
            name_ja=name_ja,
            name_latin=name_latin,
            kind=kind,
            holds_customer_data=holds_customer_data,
            group=group,
        )
        partner.full_clean()
        partner.save()
        audit_record(
            action=AuditEvent.Action.PARTNER_CREATED, actor=actor, partner=partner, target=partner
        )
        partner_grant(partner=partner, obj=partner, perms=("view",), actor=actor)
    return partner


PARTNER_EDITABLE_FIELDS = ("name_ja", "name_latin", "holds_customer_data")


def partner_update(*, partner: Partner, actor: Actor, **values: Any) -> Partner:
    """Change a partner's names or whether it holds customer data (its slug and kind name its
    guardian group and the host, and never change). Audited with each old and new value;
    nothing is written when nothing changed. Raises ApplicationError (validation_failed)."""
    unknown = set(values) - set(PARTNER_EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(
            ErrorCode.VALIDATION_FAILED,
            _("Not editable: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
        )
    with transaction.atomic():
        partner = Partner.objects.select_for_update().get(pk=partner.pk)
        changes = {
            name: {"from": getattr(partner, name), "to": value}
            for name, value in values.items()
            if getattr(partner, name) != value
        }
        if not changes:
            return partner
        for name, change in changes.items():
            setattr(partner, name, change["to"])
        try:
            partner.full_clean()
        except ValidationError as exc:
            raise ApplicationError(ErrorCode.VALIDATION_FAILED, fields=exc.message_dict) from None
        partner.save(update_fields=list(changes))
        audit_record(
            action=AuditEvent.Action.PARTNER_UPDATED,
            actor=actor,
            partner=partner,
            target=partner,
            detail=changes,
        )
    return partner


_STATUS_ACTIONS = {
    Partner.Status.SUSPENDED: AuditEvent.Action.PARTNER_SUSPENDED,
    Partner.Status.ACTIVE: AuditEvent.Action.PARTNER_RESUMED,
    Partner.Status.OFFBOARDED: AuditEvent.Action.PARTNER_OFFBOARDED,
}


# The partner is told of its own suspension and resumption (offboarded partners get nothing).
_STATUS_EVENTS = {
    Partner.Status.SUSPENDED: "partner.suspended",
    Partner.Status.ACTIVE: "partner.resumed",
}


def _partner_set_status(*, partner: Partner, status: Partner.Status, actor: Actor) -> Partner:
    with transaction.atomic():
        # Lock so two managers acting at once cannot interleave status and audit rows.
        partner = Partner.objects.select_for_update().get(pk=partner.pk)
        if partner.status == Partner.Status.OFFBOARDED:
            raise ApplicationError(
                ErrorCode.CONFLICT, _("An offboarded partner cannot change status.")
            )
        if partner.status == status:
            return partner
        previous = partner.status
        partner.status = status
        partner.status_changed_at = timezone.now()
        partner.save(update_fields=["status", "status_changed_at"])
        audit_record(
            action=_STATUS_ACTIONS[status],
            actor=actor,
            partner=partner,
            target=partner,
            detail={"from": previous, "to": status},
        )
        if status in _STATUS_EVENTS:
            webhook_emit(
                partner=partner,
                event_type=_STATUS_EVENTS[status],
                data={"partner_id": str(partner.pk), "status": status},
            )
    return partner


def partner_suspend(*, partner: Partner, actor: Actor) -> Partner:
    """Suspend a partner. Its API keys are refused from the next request on."""
    return _partner_set_status(partner=partner, status=Partner.Status.SUSPENDED, actor=actor)


def partner_resume(*, partner: Partner, actor: Actor) -> Partner:
    return _partner_set_status(partner=partner, status=Partner.Status.ACTIVE, actor=actor)


def partner_offboard(*, partner: Partner, actor: Actor) -> Partner:
    """Offboard a partner for good: its keys stop working and it receives no more events."""
    return _partner_set_status(partner=partner, status=Partner.Status.OFFBOARDED, actor=actor)


def _alliance_managers_group() -> Group:
    group, _created = Group.objects.get_or_create(name=ALLIANCE_MANAGERS_GROUP)
    wanted = [
        (app_label, f"{action}_{model}")
        for app_label, models_ in _ALLIANCE_MANAGER_PERMISSIONS.items()
        for model, actions in models_.items()
        for action in actions
    ]
    permissions = Permission.objects.filter(
        content_type__app_label__in={app for app, _ in wanted},
        codename__in={codename for _, codename in wanted},
    )
    group.permissions.set(permissions)
    return group


def _leave_role_groups(user: User) -> None:
    # Only the groups a role puts a user in; other groups an operator added stay.
    user.groups.remove(
        *user.groups.filter(Q(name__startswith="partner:") | Q(name=ALLIANCE_MANAGERS_GROUP))
    )


def staff_role_set(
    *, user: User, role: StaffRole.Role, partner: Partner | None, actor: Actor
) -> StaffRole:
    """Give a user their one role, moving them between the groups that carry permissions.

    Raises ApplicationError(validation_failed) when a partner role lacks a partner or an
    alliance-wide role names one.
    """
    with transaction.atomic():
        staff_role = StaffRole.objects.filter(user=user).first() or StaffRole(user=user)
        staff_role.role = role
        staff_role.partner = partner
        try:
            staff_role.full_clean()
        except Exception as exc:
            raise ApplicationError(
                ErrorCode.VALIDATION_FAILED,
                _("A partner role needs a partner; an alliance-wide role takes none."),
            ) from exc
        staff_role.save()
        _leave_role_groups(user)
        if partner is not None:
            user.groups.add(partner.group)
        if role == StaffRole.Role.ALLIANCE_MANAGER:
            user.groups.add(_alliance_managers_group())
        # Only alliance managers use the admin; compliance reviewers have their own pages.
        user.is_staff = role == StaffRole.Role.ALLIANCE_MANAGER
        user.save(update_fields=["is_staff"])
        audit_record(
            action=AuditEvent.Action.STAFF_ROLE_SET,
            actor=actor,
            partner=partner,
            target=staff_role,
            detail={"user": user.get_username(), "role": role},
        )
    return staff_role


def staff_role_remove(*, staff_role: StaffRole, actor: Actor) -> None:
    with transaction.atomic():
        user = staff_role.user
        _leave_role_groups(user)
        user.is_staff = False
        user.save(update_fields=["is_staff"])
        audit_record(
            action=AuditEvent.Action.STAFF_ROLE_REMOVED,
            actor=actor,
            partner=staff_role.partner,
            target=staff_role,
            detail={"user": user.get_username(), "role": staff_role.role},
        )
        staff_role.delete()


def staff_language_set(*, user: User, language: str, actor: Actor) -> StaffPreference:
    """Save the language ``user`` is answered in from now on, on every device (the language
    switch calls this for a signed-in person). Audited with the old and new language; nothing
    is written when it does not change. Raises ApplicationError (validation_failed) for a
    language the service does not speak."""
    languages = [code for code, _name in settings.LANGUAGES]
    if language not in languages:
        raise validation_failed(
            "language", _("Choose one of: %(languages)s.") % {"languages": ", ".join(languages)}
        )
    with transaction.atomic():
        preference = StaffPreference.objects.select_for_update().filter(
            user=user
        ).first() or StaffPreference(user=user)
        previous = preference.language if not preference._state.adding else None
        if previous == language:
            return preference
        preference.language = language
        preference.updated_at = timezone.now()
        preference.full_clean()
        preference.save()
        audit_record(
            action=AuditEvent.Action.STAFF_LANGUAGE_SET,
            actor=actor,
            target=preference,
            detail={"user": user.get_username(), "from": previous, "to": language},
        )
    return preference
