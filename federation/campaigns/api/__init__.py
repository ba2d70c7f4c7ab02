"""The campaign endpoints: the partner's (propose, read, reach, shipment, results) and the
host's (approve, reject, confirmations and answers from its members' portal)."""

from federation.campaigns.api.host import (
    CampaignAnswerApi,
    CampaignApproveApi,
    CampaignConfirmApi,
    CampaignPromoteApi,
    CampaignRejectApi,
)
from federation.campaigns.api.images import CampaignImageApi, CampaignImagesApi
from federation.campaigns.api.partner import (
    CampaignDetailApi,
    CampaignListApi,
    CampaignProposeApi,
    CampaignReachApi,
    CampaignResultsApi,
    CampaignShipmentApi,
)

__all__ = [
    "CampaignAnswerApi",
    "CampaignApproveApi",
    "CampaignConfirmApi",
    "CampaignDetailApi",
    "CampaignImageApi",
    "CampaignImagesApi",
    "CampaignListApi",
    "CampaignPromoteApi",
    "CampaignProposeApi",
    "CampaignReachApi",
    "CampaignRejectApi",
    "CampaignResultsApi",
    "CampaignShipmentApi",
]
