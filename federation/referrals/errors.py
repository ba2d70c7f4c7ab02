"""The referral domain's error codes, registered with the federation app's."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReferralErrorCode(models.TextChoices):
    CONVERSION_EXISTS = (
        "conversion_exists",
        _("This order id already has a referral conversion."),
    )
    OUTSIDE_WINDOW = (
        "outside_window",
        _("No click on this referral falls within the offer's attribution window."),
    )
    NO_REFERRAL_CLICK = "no_referral_click", _("Nobody has clicked this referral link yet.")
    OFFER_NOT_VALID = "offer_not_valid", _("The referral offer is not valid at that time.")
    FEE_NOT_ALLOWED = (
        "fee_not_allowed",
        _("An offer may narrow the agreement's referral terms, never widen them."),
    )
    NOT_REVIEWABLE = "not_reviewable", _("Only a flagged conversion can be approved or rejected.")
    ALREADY_REFUNDED = "already_refunded", _("This conversion was already refunded.")
    NOT_ENROLLED = (
        "not_enrolled",
        _("This member did not join your programme through an enrollment in force."),
    )


STATUSES: dict[str, int] = {
    ReferralErrorCode.CONVERSION_EXISTS: 409,
    ReferralErrorCode.OUTSIDE_WINDOW: 422,
    ReferralErrorCode.NO_REFERRAL_CLICK: 422,
    ReferralErrorCode.OFFER_NOT_VALID: 422,
    ReferralErrorCode.FEE_NOT_ALLOWED: 422,
    ReferralErrorCode.NOT_REVIEWABLE: 409,
    ReferralErrorCode.ALREADY_REFUNDED: 409,
    ReferralErrorCode.NOT_ENROLLED: 422,
}
