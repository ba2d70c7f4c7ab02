"""Attribution of a conversion the destination reports by its own member number alone, for a
member who joined its programme through mutual enrollment (``federation.enrollment``).

The member's live enrollment into the destination (the one whose ``target_member_number`` is
that number: there is at most one) names the source company and the source's own account of
the member. The referral is then the member's own links on that source's offers to this
destination: among the clicks on them, the **last one before the conversion** within its
offer's attribution window wins, ties on the same instant going to the later click recorded,
as for tokens (``attribution.attribute_clicks``). The source refers here, not a member, so the
self-referral rule does not apply (the member on both sides is the one referred).
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from federation.enrollment.models import Enrollment
from federation.referrals.errors import ReferralErrorCode
from federation.referrals.models import ReferralLink
from federation.referrals.services.attribution import Attribution, attribute_clicks
from partners.errors import ApplicationError
from partners.models import MemberAccount, Partner

LIVE = (Enrollment.Status.ACTIVE, Enrollment.Status.CONFIRMED)


def enrolled_links(destination: Partner, member: MemberAccount) -> list[ReferralLink]:
    """The links of the source's own account of ``member`` (the destination's) on that
    source's offers to ``destination``. Raises not_enrolled when the member did not join
    through a live enrollment, no_referral_click when the source gave them no link."""
    enrollment = (
        Enrollment.objects.filter(
            target=destination, target_member_number=member.member_number, status__in=LIVE
        )
        .select_related("member", "source")
        .first()
    )
    if enrollment is None:
        raise ApplicationError(ReferralErrorCode.NOT_ENROLLED)
    links = list(
        ReferralLink.objects.filter(
            member=enrollment.member,
            offer__source=enrollment.source,
            offer__destination=destination,
        ).select_related("offer__source", "offer__destination", "member")
    )
    if not links:
        raise ApplicationError(
            ReferralErrorCode.NO_REFERRAL_CLICK,
            _("The company this member came from gave them no referral link to you."),
        )
    return links


def attribute_enrolled(
    destination: Partner, member: MemberAccount, occurred_at: datetime
) -> Attribution:
    """The module's rule. Raises not_enrolled, no_referral_click, outside_window."""
    attribution = attribute_clicks(enrolled_links(destination, member), occurred_at)
    attribution.enrolled = True
    return attribution
