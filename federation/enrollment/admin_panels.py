"""The enrollment panel of a member's page in the console (``partners.admin.member_panels``):
the programmes the member was enrolled in, from which company to which, and how it stands."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from federation.enrollment.models import Enrollment
from partners.admin.member_panels import MemberPanel, register_member_panel
from partners.models import MemberAccount


def _enrollments(request: HttpRequest, member: MemberAccount) -> dict[str, Any]:
    enrollments = (
        Enrollment.objects.filter(member=member)
        .select_related("source", "target", "agreement")
        .order_by("-requested_at")
    )
    return {"enrollments": list(enrollments)}


def register() -> None:
    register_member_panel(
        MemberPanel(
            key="enrollments",
            title=_("Enrollments"),
            template="admin/federation/panels/enrollments.html",
            context=_enrollments,
            order=60,
        )
    )
