"""Referral writes: offers and links (``offers``), clicks (``clicks``), conversions with their
attribution, fraud rules, review and refund (``conversions``, ``attribution``), fees
(``fees``), posted into settlement once locked (``settling``), coins for the referred member
(``member_coins``), and the clicks' retention (``retention``) with their monthly partitions
(``click_partitions``). Each is keyword-only and atomic, audits what it changes and tells the
companies concerned by webhook."""

from federation.referrals.services.click_partitions import (
    referral_click_months_create,
    referral_click_partitions_maintain,
)
from federation.referrals.services.clicks import ClickOutcome, referral_click, with_token
from federation.referrals.services.consent import require_tracking_consent, tracking_allowed
from federation.referrals.services.conversions import (
    Referral,
    conversion_view,
    referral_conversion_approve,
    referral_conversion_refund,
    referral_conversion_reject,
    referral_conversion_report,
)
from federation.referrals.services.fees import (
    fee_amount,
    referral_fees_lock_due,
    referral_fees_settle,
)
from federation.referrals.services.offers import (
    landing_url_clean,
    no_referral_agreement,
    referral_link_create,
    referral_offer_create,
    referral_terms,
)
from federation.referrals.services.retention import referral_clicks_purge
from federation.referrals.services.settling import referral_fees_post_due

__all__ = [
    "ClickOutcome",
    "Referral",
    "conversion_view",
    "fee_amount",
    "landing_url_clean",
    "no_referral_agreement",
    "referral_click",
    "referral_click_months_create",
    "referral_click_partitions_maintain",
    "referral_clicks_purge",
    "referral_conversion_approve",
    "referral_conversion_refund",
    "referral_conversion_reject",
    "referral_conversion_report",
    "referral_fees_lock_due",
    "referral_fees_post_due",
    "referral_fees_settle",
    "referral_link_create",
    "referral_offer_create",
    "referral_terms",
    "require_tracking_consent",
    "tracking_allowed",
    "with_token",
]
