"""The click benchmark's HTTP run: gunicorn (production settings plus the baseline's URL,
``settings``) started here on loopback, clients following no redirect, timing each request:
``/r/<token>`` over the links at random against the static 302 of the same server."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import transaction

from federation.coins.bench import http
from federation.referrals.bench.urls import STATIC_302
from federation.referrals.models import ReferralOffer
from federation.referrals.services import referral_link_create, tracking_allowed
from partners.actors import Actor
from partners.models import MemberAccount

SYSTEM = Actor.system()
SETTINGS = "federation.referrals.bench.settings"
CAMPAIGN_LINKS = 50
MEMBER_LINKS = 50


def links_for(offer: ReferralOffer) -> list[str]:
    """The tokens clicked: campaign links (no consent to check) and links of the source's
    members who consent to referral tracking with the destination (checked on each click)."""
    members = [
        member
        for member in MemberAccount.objects.filter(
            partner=offer.source, status=MemberAccount.Status.ACTIVE
        ).order_by("member_number")[: MEMBER_LINKS * 20]
        if tracking_allowed(member, offer.destination)
    ][:MEMBER_LINKS]
    with transaction.atomic():
        links = [
            referral_link_create(offer=offer, campaign=f"bench-{n}", actor=SYSTEM)
            for n in range(CAMPAIGN_LINKS)
        ]
        links += [referral_link_create(offer=offer, member=m, actor=SYSTEM) for m in members]
    return [link.token for link in links]


def clicks(tokens: Sequence[str]) -> Callable[[random.Random], http.Call]:
    def call(rng: random.Random) -> http.Call:
        return http.Call("GET /r/<token>", "GET", f"/r/{rng.choice(tokens)}", expect=302)

    return call


def static(_rng: random.Random) -> http.Call:
    return http.Call("GET static 302", "GET", f"/{STATIC_302}", expect=302)


@dataclass(frozen=True)
class Figures:
    rate: float
    timings: list[float]

    def line(self, label: str) -> str:
        return f"   {label:<34} {self.rate:>8,.0f} /s  {http.summary(self.timings)}"


def run(
    tokens: Sequence[str], *, workers: int, clients: int, seconds: float, port: int
) -> tuple[Figures, Figures]:
    """The baseline then the clicks, against one server: each with a warm-up of the same
    length, requests per second and the measured requests' timings."""
    with http.served("", workers, settings_module=SETTINGS, port=port) as server:
        results = [http.load(server, clients, seconds, calls) for calls in (static, clicks(tokens))]
    (base_rate, base), (click_rate, click) = results
    return Figures(base_rate, base.all()), Figures(click_rate, click.all())
