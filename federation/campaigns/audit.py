"""The campaign domain's audit actions, registered from its ``registrations``."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CampaignAuditAction(models.TextChoices):
    CREATED = "campaigns.created", _("Campaign drafted")
    PROPOSED = "campaigns.proposed", _("Campaign proposed")
    APPROVED = "campaigns.approved", _("Campaign approved")
    REJECTED = "campaigns.rejected", _("Campaign rejected")
    SELECTED = "campaigns.selected", _("Campaign members selected")
    CONFIRMED = "campaigns.confirmed", _("Campaign invitation confirmed")
    EXPORTED = "campaigns.shipment_exported", _("Campaign shipment list exported")
    SURVEY_OPENED = "campaigns.survey_opened", _("Campaign survey opened")
    ANSWERED = "campaigns.answered", _("Campaign survey answered")
    CLOSED = "campaigns.closed", _("Campaign closed")
    REACH_ASKED = "campaigns.reach_asked", _("Campaign reach asked")
    IMAGE_ADDED = "campaigns.image_added", _("Campaign product image added")
    PROMOTED = "campaigns.promoted", _("Campaign product promoted to a referral offer")
