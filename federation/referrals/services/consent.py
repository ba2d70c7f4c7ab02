"""The consent a referral needs, asked at the moment of use: a member's consent to referral
tracking with the other company. The one definition both the click and the conversion use."""

from __future__ import annotations

from django.utils.translation import gettext as _

from consent.errors import ConsentErrorCode
from consent.selectors import consent_check
from partners.errors import ApplicationError
from partners.models import MemberAccount, Partner

PURPOSE = "referral_tracking"


def tracking_allowed(member: MemberAccount, other: Partner) -> bool:
    """Whether ``member`` consents now to referral tracking with ``other`` (the company on the
    other side of the referral from the member's own)."""
    return consent_check(member_id=member.pk, purpose_code=PURPOSE, recipient=other).allowed


def require_tracking_consent(member: MemberAccount, other: Partner) -> None:
    """Refuses with consent_required unless ``tracking_allowed``."""
    if not tracking_allowed(member, other):
        raise ApplicationError(
            ConsentErrorCode.CONSENT_REQUIRED,
            _("Not tracked: a member's consent to referral tracking is not in force."),
        )
