"""A click on a referral link: recorded when the referral may be tracked, and always answered
with where to send the visitor, which is only ever the offer's own landing URL.

Clicks are not audited one by one (they are anonymous, numerous, and change nothing a company
acts on); the funnel counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.utils import timezone

from federation.agreements.models import Agreement
from federation.referrals.codes import fingerprint, is_token
from federation.referrals.models import ReferralClick, ReferralLink
from federation.referrals.services.consent import tracking_allowed

TOKEN_PARAMETER = "sanpo_ref"  # noqa: S105 - a parameter name, no secret


@dataclass(frozen=True)
class ClickOutcome:
    """Where to send the visitor (None: to the safe page), and the click recorded, if any."""

    location: str | None
    click: ReferralClick | None = None


def with_token(url: str, token: str) -> str:
    """``url`` with ``sanpo_ref=<token>`` added to its query (any earlier one replaced), its
    other parameters and fragment kept as they were."""
    parts = urlsplit(url)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != TOKEN_PARAMETER
    ]
    query.append((TOKEN_PARAMETER, token))
    return urlunsplit(parts._replace(query=urlencode(query)))


def referral_click(
    *, token: str, address: str, user_agent: str, at: datetime | None = None
) -> ClickOutcome:
    """The click on the link of ``token`` at ``at`` (now): for an unknown or malformed token,
    or an offer not valid that day or whose agreement is not active, no location. For a link
    of a member who no longer consents to referral tracking with the destination, the plain
    landing URL and nothing recorded; otherwise the click is recorded (with a coarse
    fingerprint of ``address`` and ``user_agent``) and the landing URL carries the token."""
    at = at or timezone.now()
    if not is_token(token):
        return ClickOutcome(None)
    link = (
        ReferralLink.objects.filter(token=token)
        .select_related("offer__agreement", "offer__destination", "member")
        .first()
    )
    if link is None:
        return ClickOutcome(None)
    offer = link.offer
    day = timezone.localdate(at)
    if not offer.valid_from <= day <= offer.valid_until:
        return ClickOutcome(None)
    if offer.agreement.status != Agreement.Status.ACTIVE:
        return ClickOutcome(None)
    if link.member is not None and not tracking_allowed(link.member, offer.destination):
        return ClickOutcome(offer.landing_url)
    click = ReferralClick.objects.create(
        link=link, offer=offer, at=at, fingerprint=fingerprint(address, user_agent)
    )
    return ClickOutcome(with_token(offer.landing_url, token), click)
