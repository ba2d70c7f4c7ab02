"""The referral domain's audit actions, registered from its ``registrations``."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReferralAuditAction(models.TextChoices):
    OFFER_CREATED = "referrals.offer_created", _("Referral offer created")
    LINK_CREATED = "referrals.link_created", _("Referral link created")
    CONVERSION_RECORDED = "referrals.conversion_recorded", _("Referral conversion recorded")
    CONVERSION_FLAGGED = "referrals.conversion_flagged", _("Referral conversion flagged")
    CONVERSION_APPROVED = "referrals.conversion_approved", _("Flagged referral approved")
    CONVERSION_REJECTED = "referrals.conversion_rejected", _("Flagged referral rejected")
    CONVERSION_REFUNDED = "referrals.conversion_refunded", _("Referred purchase refunded")
    FEES_LOCKED = "referrals.fees_locked", _("Referral fees locked")
    FEES_SETTLED = "referrals.fees_settled", _("Referral fees settled")
    CLICKS_PURGED = "referrals.clicks_purged", _("Old referral clicks purged")
    MEMBER_COINS_PAID = "referrals.member_coins_paid", _("Coins paid to a referred member")
    MEMBER_COINS_REFUSED = (
        "referrals.member_coins_refused",
        _("Coins for a referred member not paid (terms or consent)"),
    )
