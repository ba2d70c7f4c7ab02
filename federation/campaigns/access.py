"""How the API obtains a campaign: the partner that proposed it, or the host whose members it
is for, each only through its own door. Anything else, like a missing id, is a 404: to a
partner, another partner's campaign and the host's door on its own campaign do not exist."""

from __future__ import annotations

import uuid
from typing import Literal

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from federation.campaigns.models import Campaign
from partners.errors import not_found
from partners.models import Partner

CampaignRole = Literal["party", "partner", "host"]


def campaigns_visible_to(principal: Partner) -> QuerySet[Campaign]:
    """The campaigns ``principal`` proposed or is the host of."""
    return Campaign.objects.filter(Q(partner=principal) | Q(host=principal)).select_related(
        "partner", "host"
    )


def access_campaign_by_id(
    principal: Partner, campaign_id: str, *, role: CampaignRole = "party"
) -> Campaign:
    """A campaign ``principal`` may reach in ``role``: ``partner`` (it proposed it), ``host``
    (its members), or either (``party``). Anything else is a 404."""
    try:
        pk = uuid.UUID(str(campaign_id))
    except ValueError:
        raise not_found(_("campaign")) from None
    found = campaigns_visible_to(principal).filter(pk=pk)
    if role == "partner":
        found = found.filter(partner=principal)
    if role == "host":
        found = found.filter(host=principal)
    campaign = found.first()
    if campaign is None:
        raise not_found(_("campaign"))
    return campaign


def the_host() -> Partner:
    """The alliance's host, whose members every campaign is for (there is one, or none yet,
    which answers like an agreement that does not exist)."""
    host = Partner.objects.filter(kind=Partner.Kind.HOST).first()
    if host is None:
        raise not_found(_("host"))
    return host
