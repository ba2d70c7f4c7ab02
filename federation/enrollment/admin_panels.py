"""Enrollment in the consoles: the panel of a member's page in the alliance console
(``partners.admin.member_panels``), the programmes the member was enrolled in, from which
company to which, and how each stands; and the partner console's list of a company's own
enrollments (``partners.admin.partner_console``)."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from federation.enrollment.access import enrollments_visible_to
from federation.enrollment.models import Enrollment
from partners.admin.member_panels import MemberPanel, register_member_panel
from partners.admin.partner_console import PartnerConsoleAdmin, partner_site
from partners.models import MemberAccount, Partner


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


class PartnerEnrollmentAdmin(PartnerConsoleAdmin):
    """The partner console's enrollments: those the company is the source or the target of
    (``federation.enrollment.access``), without the member (the source's number is its own
    business, the target reads the member through the API, each read recorded)."""

    list_display = ["requested_at", "source", "target", "agreement", "status", "confirmed_at"]
    list_filter = ["status"]
    fields = readonly_fields = (
        "source",
        "target",
        "agreement",
        "status",
        "fields",
        "requested_at",
        "confirmed_at",
        "ended_at",
        "ended_reason",
    )
    date_hierarchy = "requested_at"

    def own_rows(self, partner: Partner) -> QuerySet[Any]:
        return enrollments_visible_to(partner).select_related("agreement")


def register_partner_console() -> None:
    partner_site.register(Enrollment, PartnerEnrollmentAdmin)
