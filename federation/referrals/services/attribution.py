"""Which referral a conversion is attributed to, and the fraud rules that hold it for review.

Attribution of a conversion reported with tokens: among the clicks on those links made before
the conversion and within their offer's attribution window, the **last** one wins (ties on
the same instant go to the later click recorded). When no click came before the conversion
but one came after, the conversion is attributed to the first click after it and flagged
``before_click``. A conversion reported with a typed code has no click: the code itself is
the referral, within the offer's validity.

Fraud rules, each a flag (a flagged conversion earns nothing until a manager approves it):
- ``self_referral``: the member who recommended the offer (the link's) and the member who
  converted are the same person, as matching's blind indexes linked them (not for a
  conversion attributed through the member's enrollment, where they are by design);
- ``before_click``: the conversion happened before any click on the link;
- ``velocity_link`` / ``velocity_fingerprint``: one link, or one device fingerprint, already
  has ``VELOCITY_LIMIT_LINK`` / ``VELOCITY_LIMIT_FINGERPRINT`` conversions in the day before;
- ``duplicate``: the member already converted for this offer and kind under another order id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from federation.referrals.errors import ReferralErrorCode
from federation.referrals.models import ReferralClick, ReferralConversion, ReferralLink
from partners.errors import ApplicationError
from partners.models import MemberAccount

# Conversions in the 24 hours before one that make it suspicious: a member shares a link with
# friends, a family shares a connection; dozens a day from one link or device do not happen.
VELOCITY_WINDOW = timedelta(hours=24)
VELOCITY_LIMIT_LINK = 20
VELOCITY_LIMIT_FINGERPRINT = 5
Flag = ReferralConversion.Flag


@dataclass
class Attribution:
    link: ReferralLink
    click: ReferralClick | None
    flags: list[str] = field(default_factory=list)
    duplicate_of: ReferralConversion | None = None
    enrolled: bool = False  # found through the member's enrollment (``enrolled``)


def attribute_clicks(links: list[ReferralLink], occurred_at: datetime) -> Attribution:
    """The attribution of a conversion at ``occurred_at`` among ``links`` (the module's rule).
    Raises outside_window when every click before it is too old, no_referral_click when the
    links were never clicked."""
    best: ReferralClick | None = None
    too_old = False
    for link in links:  # at most ten (the API's limit): one indexed lookup each
        last = (
            ReferralClick.objects.filter(link=link, at__lte=occurred_at)
            .order_by("-at", "-id")
            .first()
        )
        if last is None:
            continue
        if occurred_at - last.at > timedelta(days=link.offer.attribution_days):
            too_old = True
        elif best is None or (last.at, last.pk) > (best.at, best.pk):
            best = last
    if best is not None:
        return Attribution(link=_link_of(links, best), click=best)
    if too_old:
        raise ApplicationError(ReferralErrorCode.OUTSIDE_WINDOW)
    after = (
        ReferralClick.objects.filter(link__in=links, at__gt=occurred_at)
        .order_by("at", "id")
        .first()
    )
    if after is None:
        raise ApplicationError(ReferralErrorCode.NO_REFERRAL_CLICK)
    return Attribution(link=_link_of(links, after), click=after, flags=[Flag.BEFORE_CLICK])


def _link_of(links: list[ReferralLink], click: ReferralClick) -> ReferralLink:
    return next(link for link in links if link.pk == click.link_id)


def attribute_code(link: ReferralLink, occurred_at: datetime) -> Attribution:
    """A typed code is the referral itself: it counts while its offer is valid."""
    day = timezone.localdate(occurred_at)
    if not link.offer.valid_from <= day <= link.offer.valid_until:
        raise ApplicationError(
            ReferralErrorCode.OFFER_NOT_VALID,
            _("The referral offer of this code is not valid on %(day)s.") % {"day": day},
        )
    return Attribution(link=link, click=None)


def apply_fraud_rules(
    attribution: Attribution, *, member: MemberAccount, kind: str, occurred_at: datetime
) -> Attribution:
    """``attribution`` with the flags of the fraud rules added (the module's rules)."""
    link = attribution.link
    referrer = link.member
    referrer_person = referrer.person_id if referrer is not None else None
    if not attribution.enrolled and referrer_person and referrer_person == member.person_id:
        attribution.flags.append(Flag.SELF_REFERRAL)
    since = occurred_at - VELOCITY_WINDOW
    recent = ReferralConversion.objects.filter(occurred_at__gte=since, occurred_at__lte=occurred_at)
    if recent.filter(link=link).count() >= VELOCITY_LIMIT_LINK:
        attribution.flags.append(Flag.VELOCITY_LINK)
    click = attribution.click
    if click is not None:
        same_device = recent.filter(offer=link.offer, click__fingerprint=click.fingerprint)
        if same_device.count() >= VELOCITY_LIMIT_FINGERPRINT:
            attribution.flags.append(Flag.VELOCITY_FINGERPRINT)
    first = ReferralConversion.objects.filter(
        offer=link.offer, member=member, kind=kind, duplicate_of__isnull=True
    ).first()
    if first is not None:
        attribution.flags.append(Flag.DUPLICATE)
        attribution.duplicate_of = first
    return attribution
