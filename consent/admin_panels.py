"""The consent panel of a member's page in the console (``partners.admin.member_panels``):
the member's current consent per recipient and purpose, read by the compliance pages'
selector, without personal data."""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.compliance.selectors import consent_states
from partners.admin.member_panels import MemberPanel, register_member_panel
from partners.db import PRIMARY
from partners.models import MemberAccount


def _consents(request: HttpRequest, member: MemberAccount) -> dict[str, Any]:
    # On the primary, as the rest of the member's page (the selector reads the replica for the
    # compliance pages' reports).
    states = consent_states(member=member, now=timezone.now()).using(PRIMARY)
    return {"states": list(states)}


def register() -> None:
    register_member_panel(
        MemberPanel(
            key="consents",
            title=_("Consents"),
            template="admin/consent/panels/consents.html",
            context=_consents,
            order=50,
        )
    )
