"""What the campaign domain adds to the registries below it, from ``FederationConfig.ready``:
its part of the agreement's terms document (``sampling``: who ships), its error codes, audit
actions and webhook events."""

from federation.agreements.terms import register_terms_section
from federation.campaigns.audit import CampaignAuditAction
from federation.campaigns.errors import STATUSES, CampaignErrorCode
from federation.campaigns.terms import SAMPLING_INPUTS, clean_sampling_terms
from partners.audit_actions import register_audit_actions
from partners.errors import register_error_codes
from partners.webhook_events import register_event_types

WEBHOOK_EVENTS = {
    "campaigns.proposed": "Your campaign was proposed to the host for review.",
    "campaigns.approved": "The host approved your campaign: members are being selected.",
    "campaigns.rejected": "The host rejected your campaign, with its reason.",
    "campaigns.selected": "Members were drawn for your campaign (a count, never who).",
    "campaigns.shipment_exported": "A shipment list of your campaign was exported.",
    "campaigns.survey_opened": "The survey of your campaign is open for answers.",
    "campaigns.closed": "Your campaign is closed: its results are final.",
    "campaigns.promoted": "The host promoted your product to its members as a referral offer.",
}


def register() -> None:
    register_event_types(WEBHOOK_EVENTS)
    register_terms_section("sampling", clean_sampling_terms, inputs=SAMPLING_INPUTS)
    register_error_codes(CampaignErrorCode, STATUSES)
    register_audit_actions(CampaignAuditAction)
