"""Which referral objects a company may reach. An offer is its source's and its destination's
to read, its source's alone to hand links out for; a conversion is its destination's, by its
own order id. Anything else, like a missing object, is a 404."""

from __future__ import annotations

from contextlib import suppress

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from federation.referrals.models import ReferralConversion, ReferralOffer
from partners.errors import not_found
from partners.models import Partner


def access_offer(principal: Partner, offer_id: str, *, need: str = "read") -> ReferralOffer:
    """The offer ``offer_id``: for ``need="read"`` when the principal is its source or its
    destination, for ``need="write"`` (links) when it is its source."""
    parties = Q(source=principal)
    if need == "read":
        parties |= Q(destination=principal)
    found = None
    with suppress(ValueError, ValidationError):
        found = (
            ReferralOffer.objects.filter(parties, pk=offer_id)
            .select_related("source", "destination")
            .first()
        )
    if found is None:
        raise not_found(_("referral offer"))
    return found


def access_conversion_by_order(principal: Partner, order_id: str) -> ReferralConversion:
    """The conversion the principal reported for its order ``order_id``."""
    found = (
        ReferralConversion.objects.filter(destination=principal, order_id=order_id)
        .select_related("offer")
        .first()
    )
    if found is None:
        raise not_found(_("referral conversion"))
    return found
