"""Which referral objects a company may reach through an offer's or an order's id: an offer's
links are its source's alone (the destination reads the offer in the list, never its links or
tokens); a conversion is its destination's, by its own order id. Anything else, like a missing
object, is a 404."""

from __future__ import annotations

from contextlib import suppress

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from federation.referrals.models import ReferralConversion, ReferralOffer
from partners.errors import not_found
from partners.models import Partner


def access_source_offer(principal: Partner, offer_id: str) -> ReferralOffer:
    """The offer ``offer_id`` of which the principal is the source."""
    found = None
    with suppress(ValueError, ValidationError):
        found = (
            ReferralOffer.objects.filter(source=principal, pk=offer_id)
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
