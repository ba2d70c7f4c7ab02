"""The campaign domain's writes: ``proposals`` (draft, propose, approve, reject), ``reach``
(the segment's count under the overlap's disclosure rules), ``selection`` (the draw, the
invitations confirmed), ``shipment`` (the list for the shipper, with provision records),
``survey`` (open, answer with coins, close), ``results`` (the partner's aggregates) and
``promotion`` (a well-rated product made the host's referral offer)."""

from federation.campaigns.services.images import MAX_BYTES, MAX_IMAGES, campaign_image_add
from federation.campaigns.services.promotion import (
    MIN_RATING,
    Rating,
    campaign_promote,
    campaign_rating,
)
from federation.campaigns.services.proposals import (
    CampaignInput,
    campaign_approve,
    campaign_create,
    campaign_propose,
    campaign_reject,
)
from federation.campaigns.services.reach import Reach, campaign_reach, eligible_count
from federation.campaigns.services.results import (
    QuestionResult,
    Results,
    campaign_results,
    exact_tallies,
)
from federation.campaigns.services.selection import campaign_member_confirm, campaign_select
from federation.campaigns.services.shipment import SHIPPING_FIELDS, campaign_shipment_export
from federation.campaigns.services.survey import (
    campaign_answer,
    campaign_close,
    campaign_survey_open,
    campaigns_close_ended,
    scrub,
)

__all__ = [
    "MAX_BYTES",
    "MAX_IMAGES",
    "MIN_RATING",
    "SHIPPING_FIELDS",
    "CampaignInput",
    "QuestionResult",
    "Rating",
    "Reach",
    "Results",
    "campaign_answer",
    "campaign_approve",
    "campaign_close",
    "campaign_create",
    "campaign_image_add",
    "campaign_member_confirm",
    "campaign_promote",
    "campaign_propose",
    "campaign_rating",
    "campaign_reach",
    "campaign_reject",
    "campaign_results",
    "campaign_select",
    "campaign_shipment_export",
    "campaign_survey_open",
    "campaigns_close_ended",
    "eligible_count",
    "exact_tallies",
    "scrub",
]
