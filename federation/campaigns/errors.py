"""The campaign domain's error codes, registered with the federation app's."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CampaignErrorCode(models.TextChoices):
    CAMPAIGN_STATE = (
        "campaign_state",
        _("The campaign is not in a state that allows this."),
    )
    SEGMENT_TOO_NARROW = (
        "segment_too_narrow",
        _("The segment is so narrow that it could single out members."),
    )
    NOT_IN_CAMPAIGN = "not_in_campaign", _("The member was not selected for this campaign.")
    ALREADY_ANSWERED = "already_answered", _("The member has already answered this survey.")
    NOT_PROMOTABLE = (
        "not_promotable",
        _("The product is not rated highly enough, by enough members, to be promoted."),
    )
    ALREADY_PROMOTED = "already_promoted", _("The product was already promoted.")
    TOO_MANY_IMAGES = "too_many_images", _("The campaign has as many images as it may.")
    NOT_THE_SHIPPER = (
        "not_the_shipper",
        _("Under the agreement, the other company ships this campaign."),
    )


STATUSES: dict[str, int] = {
    CampaignErrorCode.CAMPAIGN_STATE: 409,
    CampaignErrorCode.SEGMENT_TOO_NARROW: 422,
    CampaignErrorCode.NOT_IN_CAMPAIGN: 422,
    CampaignErrorCode.ALREADY_ANSWERED: 409,
    CampaignErrorCode.NOT_PROMOTABLE: 422,
    CampaignErrorCode.ALREADY_PROMOTED: 409,
    CampaignErrorCode.NOT_THE_SHIPPER: 403,
    CampaignErrorCode.TOO_MANY_IMAGES: 422,
}
