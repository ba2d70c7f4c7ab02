"""The referral endpoints: offers and links (the source), conversions and refunds (the
destination), and each company's own funnel."""

from federation.referrals.api.conversions import ReferralConversionApi, ReferralRefundApi
from federation.referrals.api.funnel import ReferralFunnelApi
from federation.referrals.api.offers import ReferralLinkListApi, ReferralOfferListApi

__all__ = [
    "ReferralConversionApi",
    "ReferralFunnelApi",
    "ReferralLinkListApi",
    "ReferralOfferListApi",
    "ReferralRefundApi",
]
