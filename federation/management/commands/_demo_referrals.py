"""The demo alliance's referrals and settlement: Kirari's delivery staff hand out flyers for
Midori Fitness Club's trial month (a campaign link with its typed code), members click it,
and Midori reports the sales of members who consent to referral tracking with Kirari; and the
current month's settlement period, computed as a draft so the console shows who owes whom.
All through the services; running it again adds nothing."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from consent.selectors import notice_in_force
from consent.services import consent_grant
from federation.referrals.models import ReferralConversion, ReferralLink, ReferralOffer
from federation.referrals.services import (
    Referral,
    referral_click,
    referral_conversion_report,
    referral_link_create,
    referral_offer_create,
    tracking_allowed,
)
from federation.settlement.models import SettlementPeriod
from federation.settlement.services import period_compute, period_create
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import MemberAccount, Partner

SYSTEM = Actor.system()
TRIAL = "https://midori-fitness.example/trial"
CAMPAIGN = "delivery-flyers"


def seed_referrals(kirari: Partner, midori: Partner) -> int:
    """Kirari's offer of Midori's trial, its flyer link, clicks and Midori's sales through
    it; returns the conversions recorded."""
    offer = ReferralOffer.objects.filter(source=kirari, destination=midori).first()
    with suppress(ApplicationError):  # an older demo database without the referral terms
        offer = offer or referral_offer_create(
            source=kirari,
            destination=midori,
            texts={
                "title_ja": "ミドリフィットネス 1か月無料体験",
                "title_en": "Midori Fitness Club: a free trial month",
                "description_ja": "きらりの配達スタッフがお届けするチラシから。",
                "description_en": "From the flyers Kirari's delivery staff hand out.",
            },
            landing_url=TRIAL,
            actor=SYSTEM,
        )
    if offer is None:
        return 0
    link = ReferralLink.objects.filter(offer=offer, campaign=CAMPAIGN).first()
    link = link or referral_link_create(offer=offer, campaign=CAMPAIGN, actor=SYSTEM)
    if not ReferralConversion.objects.filter(destination=midori).exists():
        _convert(link, midori, kirari)
    return ReferralConversion.objects.filter(destination=midori).count()


def _convert(link: ReferralLink, midori: Partner, kirari: Partner) -> None:
    members = MemberAccount.objects.filter(
        partner=midori, status=MemberAccount.Status.ACTIVE
    ).order_by("member_number")[:40]
    now = timezone.now()
    for member in members[:4]:  # they agree to it in Midori's app, then come by the flyer
        if not tracking_allowed(member, kirari):
            _consent(member, kirari, now - timedelta(minutes=5))
    consenting = [member for member in members if tracking_allowed(member, kirari)][:4]
    for n, member in enumerate(consenting):
        address = f"198.51.100.{10 + n}"
        referral_click(token=link.token, address=address, user_agent="Mozilla/5.0 Safari/17")
        with suppress(ApplicationError):
            referral_conversion_report(
                destination=midori,
                member=member,
                kind="sale",
                order_id=f"DEMO-MF-TRIAL-{n + 1}",
                amount_yen=Decimal(9800),
                occurred_at=now + timedelta(seconds=1),
                referral=Referral(tokens=(link.token,)),
                actor=SYSTEM,
            )


def _consent(member: MemberAccount, kirari: Partner, at: datetime) -> None:
    notice = notice_in_force()
    if notice is None:
        return
    with suppress(ApplicationError):
        consent_grant(
            member=member,
            purpose_code="referral_tracking",
            recipient=kirari,
            notice=notice,
            channel="partner_app",
            occurred_at=at,
            actor=SYSTEM,
        )


def seed_settlement(kirari: Partner) -> SettlementPeriod | None:
    """This month's period, computed as a draft from the ledger (the companies see it once
    the month is over and the host opens its review)."""
    today = timezone.localdate()
    first = today.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    period = SettlementPeriod.objects.filter(host=kirari, starts_on=first).first()
    with suppress(ApplicationError):
        period = period or period_create(host=kirari, starts_on=first, ends_on=last, actor=SYSTEM)
    if period is not None and period.computed_at is None:  # computed once: a rerun adds nothing
        period_compute(period, actor=SYSTEM)
    return period
