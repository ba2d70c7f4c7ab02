"""The only way an API view or a task obtains a partner's object, and the one check of a staff
user's role.

Every object a partner may see is granted to the partner's group with django-guardian, and
these functions look objects up through those grants, never through global permissions
(``accept_global_perms=False``). Missing and not-yours give the same 404.
"""

import unicodedata
import uuid
from collections.abc import Iterable
from typing import Any, Literal, TypeVar

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import get_objects_for_group

from partners.errors import not_found
from partners.models import ApiKey, MemberAccount, Partner, StaffRole, WebhookEndpoint

Need = Literal["read", "write", "delete"]
M = TypeVar("M", bound=models.Model)

_OBJECT = _("object")
_PERMISSION_FOR_NEED = {"read": "view", "write": "change", "delete": "delete"}


def granted(
    principal: Partner, queryset: "models.QuerySet[M]", *, need: Need = "read"
) -> "models.QuerySet[M]":
    """The objects of ``queryset`` that ``principal`` holds the permission for ``need`` on."""
    codename = f"{_PERMISSION_FOR_NEED[need]}_{queryset.model._meta.model_name}"
    return get_objects_for_group(principal.group, codename, queryset, accept_global_perms=False)


def access_object(
    principal: Partner,
    queryset: "models.QuerySet[M]",
    object_id: str,
    *,
    need: Need = "read",
    what: str | Promise = _OBJECT,
) -> M:
    try:
        pk = uuid.UUID(str(object_id))
    except ValueError:
        raise not_found(what) from None
    found = granted(principal, queryset.filter(pk=pk), need=need).first()
    if found is None:
        raise not_found(what)
    return found


def access_partner_by_id(principal: Partner, partner_id: str, *, need: Need = "read") -> Partner:
    return access_object(principal, Partner.objects.all(), partner_id, need=need, what=_("partner"))


def _access_own(
    principal: Partner, model: type[M], object_id: str, *, need: Need, what: str | Promise
) -> M:
    """``access_object`` among the principal's own objects of ``model`` (its ``partner``
    column), with that partner loaded: a grant on another partner's object does not count."""
    own = model._default_manager.select_related("partner").filter(partner=principal)
    return access_object(principal, own, object_id, need=need, what=what)


def access_api_key_by_id(principal: Partner, key_id: str, *, need: Need = "read") -> ApiKey:
    return _access_own(principal, ApiKey, key_id, need=need, what=_("API key"))


def access_webhook_endpoint_by_id(
    principal: Partner, endpoint_id: str, *, need: Need = "read"
) -> WebhookEndpoint:
    return _access_own(
        principal, WebhookEndpoint, endpoint_id, need=need, what=_("webhook endpoint")
    )


def _member_number(raw: str) -> str:
    # Width and surrounding spaces only: a number that was stored normalised is found however
    # the caller spells it, and an invalid one simply finds nothing.
    return unicodedata.normalize("NFKC", raw).strip()


def access_member_by_number(principal: Partner, member_number: str) -> MemberAccount:
    """One of the principal's own member accounts, by the number the partner gave it.

    Member accounts are not granted one by one (a base holds millions): a partner's own base is
    what its ``partner`` column says. Another partner's number, like a missing one, is a 404;
    other partners' members are reached only through pseudonymous ids and consent.
    """
    found = MemberAccount.objects.filter(
        partner=principal, member_number=_member_number(member_number)
    ).first()
    if found is None:
        raise not_found(_("member"))
    return found


def access_member_ids_by_numbers(
    principal: Partner, member_numbers: Iterable[str]
) -> dict[str, uuid.UUID]:
    """``access_member_by_number`` for many numbers in one query: the ids of those that are
    accounts of the principal's own base, keyed by the number as given. Numbers of other bases
    are absent, like missing ones."""
    wanted = {number: _member_number(number) for number in member_numbers}
    found = dict(
        MemberAccount.objects.filter(
            partner=principal, member_number__in=set(wanted.values())
        ).values_list("member_number", "pk")
    )
    return {number: found[stored] for number, stored in wanted.items() if stored in found}


# --- Staff roles ----------------------------------------------------------------------------


def staff_role_of(user: Any) -> StaffRole | None:
    """The Sanpo role of an active, signed-in user, or None.

    The one staff-role check of every console page, admin screen and service. A role rather
    than a model permission: a role is given only through ``staff_role_set``, which audits it,
    while a permission can be ticked onto any user or group by hand. For the same reason
    Django's superuser flag grants no role: a superuser (the bootstrap account) gives itself or
    others a role in the admin, audited, and then acts through it like everyone else."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if not getattr(user, "is_active", False):
        return None
    try:
        role: StaffRole = user.sanpo_role  # cached on the user: one query per request
    except StaffRole.DoesNotExist:
        return None
    return role


def has_staff_role(user: Any, *roles: StaffRole.Role) -> bool:
    """Whether ``user`` holds one of ``roles`` (see ``staff_role_of``)."""
    role = staff_role_of(user)
    return role is not None and role.role in roles
