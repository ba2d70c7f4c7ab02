"""What the referral domain adds to the registries below it, from ``FederationConfig.ready``:
its part of the agreement's terms document (``referral``), its error codes, audit actions and
webhook events."""

from federation.agreements.terms import register_terms_section
from federation.referrals.audit import ReferralAuditAction
from federation.referrals.errors import STATUSES, ReferralErrorCode
from federation.referrals.terms import REFERRAL_INPUTS, clean_referral_terms
from partners.audit_actions import register_audit_actions
from partners.errors import register_error_codes
from partners.webhook_events import register_event_types

WEBHOOK_EVENTS = {
    "referrals.conversion_recorded": "A conversion of a referral between your company and a "
    "partner was recorded: the source earns its fee once the review period is over.",
    "referrals.conversion_flagged": "A referral conversion was held for review by the alliance "
    "managers instead of being paid.",
    "referrals.member_coins_paid": "Coins an offer promised the referred member were paid on "
    "a conversion, funded by the source (the destination hears its member's number).",
    "referrals.fee_locked": "Referral fees passed their review period: they are final and go "
    "into the next settlement.",
}


def register() -> None:
    register_event_types(WEBHOOK_EVENTS)
    register_terms_section("referral", clean_referral_terms, inputs=REFERRAL_INPUTS)
    register_error_codes(ReferralErrorCode, STATUSES)
    register_audit_actions(ReferralAuditAction)
