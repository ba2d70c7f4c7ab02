"""The demo alliance's coins: purchases that earned coins at the host and at Midori Fitness
Club, one refunded in part, and coins Midori issued spent at the host, all through the coin
services, so the ledger, its lots and the coin overview have something to show. Each order id
earns once, so running it again adds nothing."""

from __future__ import annotations

from contextlib import suppress
from decimal import Decimal

from federation.coins.access import access_purchase
from federation.coins.models import CoinTransaction
from federation.coins.services import (
    coins_earn_for_purchase,
    coins_redeem_at,
    coins_refund_order,
)
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
        members = (
            MemberAccount.objects.filter(partner=host, status=MemberAccount.Status.ACTIVE)
            .exclude(member_number=STORY_MEMBER)
            .order_by("member_number")[:12]
        )
        for n, member in enumerate(members, start=1):
            _purchases(host, midori, member, n)
        # What the rules refuse (a member without the consent, too few coins) is skipped.
        with suppress(ApplicationError):
            earned = access_purchase(host, "DEMO-K-1")
            coins_refund_order(earned=earned, refund_yen=Decimal(1000), actor=SYSTEM)
    return CoinTransaction.objects.count()


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
