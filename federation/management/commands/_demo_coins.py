"""The demo alliance's coins: purchases that earned coins at the host and at Midori Fitness
Club, one refunded in part, coins Midori issued spent at the host, actions between purchases
(videos watched, an event attended, a survey answered) and a member who came back after half a
year and got the reactivation bonus (its holdout recorded), all through the coin services, so
the ledger, its lots, the action grants and the coin overview have something to show. Each
order id earns once and each action is granted once per content, so running it again adds
nothing."""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta
from decimal import Decimal
from itertools import count

from django.utils import timezone

from federation.coins.access import access_purchase
from federation.coins.models import CoinTransaction
from federation.coins.services import (
    coins_earn_for_action,
    coins_earn_for_purchase,
    coins_redeem_at,
    coins_refund_order,
)
from federation.coins.services.actions import reactivation_key
from federation.holdouts.models import Holdout
from federation.holdouts.selectors import is_held_out
from federation.holdouts.services import default_percent, holdout_for
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import MemberAccount, Partner

SYSTEM = Actor.system()
# The README's worked example posts for this member itself.
STORY_MEMBER = "K00000002"


def seed_coins(partners: dict[str, Partner]) -> int:
    """Post the demo's coins once; return how many coin transactions the ledger holds."""
    host, midori = partners["kirari"], partners["midori-fitness"]
    if not CoinTransaction.objects.filter(partner=host, reference="DEMO-K-1").exists():
        members = list(
            MemberAccount.objects.filter(partner=host, status=MemberAccount.Status.ACTIVE)
            .exclude(member_number=STORY_MEMBER)
            .order_by("member_number")[:13]
        )
        lapsed, members = members[12:], members[:12]  # the last one has bought nothing lately
        for n, member in enumerate(members, start=1):
            _purchases(host, midori, member, n)
        # What the rules refuse (a member without the consent, too few coins) is skipped.
        with suppress(ApplicationError):
            earned = access_purchase(host, "DEMO-K-1")
            coins_refund_order(earned=earned, refund_yen=Decimal(1000), actor=SYSTEM)
        for n, member in enumerate(members[:6], start=1):
            _actions(host, midori, member, n)
        for member in lapsed:
            _comeback(host, member)
    return CoinTransaction.objects.count()


def _actions(host: Partner, midori: Partner, member: MemberAccount, n: int) -> None:
    """Between purchases: product videos at the host, its autumn event for some, a survey,
    and, with the consent, Midori's open day."""
    reports = [(host, "video_watched", f"DEMO-VID-{k}") for k in range(1, 1 + n % 3 + 1)]
    reports += [(host, "event_attended", "DEMO-EVENT-AUTUMN")] if n % 2 else []
    reports += [(host, "survey_answered", "DEMO-SURVEY-1"), (midori, "event_attended", "MF-OPEN")]
    for company, action, content in reports:
        with suppress(ApplicationError):  # a member without the consent, a cap reached
            coins_earn_for_action(
                company=company,
                member=member,
                action_type=action,
                content_id=content,
                actor=SYSTEM,
            )


def _comeback(host: Partner, member: MemberAccount) -> None:
    """A member whose last purchase was 200 days ago watches a video: the reactivation bonus
    (recorded for the metrics). The bonus keeps the usual holdout; the demo records it with the
    first of its seeds that leaves this member in the treated group, so the story holds."""
    _treated_by_the_bonus(host, member)
    with suppress(ApplicationError):
        coins_earn_for_purchase(
            company=host,
            member=member,
            amount_yen=Decimal(4800),
            order_id="DEMO-K-LAPSED",
            occurred_at=timezone.now() - timedelta(days=200),
            actor=SYSTEM,
        )
        coins_earn_for_action(
            company=host,
            member=member,
            action_type="video_watched",
            content_id="DEMO-VID-COMEBACK",
            actor=SYSTEM,
        )


def _treated_by_the_bonus(host: Partner, member: MemberAccount) -> None:
    if member.person_id is None:
        return
    percent = default_percent()
    seed = next(
        f"demo-holdout-{n}"
        for n in count()
        if not is_held_out(Holdout(percent=percent, seed=f"demo-holdout-{n}"), member.person_id)
    )
    holdout_for(
        kind=Holdout.Kind.REACTIVATION,
        key=reactivation_key(host),
        company=host,
        percent=percent,
        seed=seed,
    )


def _purchases(host: Partner, midori: Partner, member: MemberAccount, n: int) -> None:
    """The member buys at the host and, with the consent, at Midori; who earned at both
    spends 100 coins at the host, the host's own coins first, then Midori's."""
    with suppress(ApplicationError):
        coins_earn_for_purchase(
            company=host,
            member=member,
            amount_yen=Decimal(2980 + 1000 * n),
            order_id=f"DEMO-K-{n}",
            actor=SYSTEM,
        )
    with suppress(ApplicationError):
        coins_earn_for_purchase(
            company=midori,
            member=member,
            amount_yen=Decimal(5500 + 500 * n),
            order_id=f"DEMO-MF-{n}",
            actor=SYSTEM,
        )
        coins_redeem_at(
            company=host, member=member, coins=100, reference=f"DEMO-TILL-{n}", actor=SYSTEM
        )
