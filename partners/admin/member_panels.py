"""Panels of a member's page in the console, filled by the apps above partners.

Partners is the bottom layer: it knows nothing of consent or enrollment. An app that has
something to say about a member registers a panel from its ``AppConfig.ready``
(``register_member_panel``), as it registers its audit actions and webhook events; the member's
page shows every registered panel, in ``order``. Partners registers its own two here: the
person's accounts at other companies, and which personal fields are stored.

A panel reads through its app's selectors, and never personal data: the page is shown without
a reveal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from partners import pii
from partners.admin.member_forms import PERSONAL_LABELS
from partners.models import MemberAccount
from partners.selectors import MEMBER_CLEAR_FIELDS

# What a panel shows: a context for its template, or None to leave the panel out.
PanelContext = Callable[[HttpRequest, MemberAccount], dict[str, Any] | None]


@dataclass(frozen=True)
class MemberPanel:
    key: str  # unique; also the panel's HTML id
    title: str | Promise
    template: str
    context: PanelContext
    order: int = 100


MEMBER_PANELS: dict[str, MemberPanel] = {}


def register_member_panel(panel: MemberPanel) -> None:
    if panel.key in MEMBER_PANELS:
        raise ValueError(f"Member panel registered twice: {panel.key!r}")
    MEMBER_PANELS[panel.key] = panel


@dataclass(frozen=True)
class ShownPanel:
    panel: MemberPanel
    context: dict[str, Any]


def member_panels(request: HttpRequest, member: MemberAccount) -> list[ShownPanel]:
    """The panels of ``member``'s page that have something to show, in order."""
    shown = []
    for panel in sorted(MEMBER_PANELS.values(), key=lambda p: (p.order, p.key)):
        context = panel.context(request, member)
        if context is not None:
            shown.append(ShownPanel(panel, {**context, "member": member}))
    return shown


# --- Partners' own panels -----------------------------------------------------------------------


def stored_personal_fields(member: MemberAccount) -> list[tuple[str, bool]]:
    """Which personal fields hold a value, as ``(label, stored)``: asked as "is the ciphertext
    NULL" in SQL, so neither a ciphertext nor the data key ever leaves the database."""
    flags = {
        f"{name}_stored": ExpressionWrapper(
            Q(**{f"{name}_sealed__isnull": False}), output_field=BooleanField()
        )
        for name in pii.PERSONAL_FIELDS
    }
    row = MemberAccount.objects.filter(pk=member.pk).values(**flags).first() or {}
    return [(str(PERSONAL_LABELS[n]), bool(row.get(f"{n}_stored"))) for n in pii.PERSONAL_FIELDS]


def _personal_fields_context(request: HttpRequest, member: MemberAccount) -> dict[str, Any]:
    return {"fields": stored_personal_fields(member)}


def _other_accounts_context(request: HttpRequest, member: MemberAccount) -> dict[str, Any] | None:
    if member.person_id is None:
        return {"accounts": [], "person": None}
    accounts = (
        MemberAccount.objects.filter(person_id=member.person_id)
        .exclude(pk=member.pk)
        .only(*MEMBER_CLEAR_FIELDS)
        .select_related("partner")
        .order_by("partner__slug", "member_number")
    )
    return {"accounts": list(accounts), "person": member.person_id}


register_member_panel(
    MemberPanel(
        key="personal-fields",
        title=_("Personal data stored"),
        template="admin/partners/memberaccount/panels/personal_fields.html",
        context=_personal_fields_context,
        order=10,
    )
)
register_member_panel(
    MemberPanel(
        key="other-accounts",
        title=_("Accounts at other companies"),
        template="admin/partners/memberaccount/panels/other_accounts.html",
        context=_other_accounts_context,
        order=20,
    )
)
