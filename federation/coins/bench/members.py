"""What the HTTP runs post for: the host's members, a coin program in an agreement in force,
coins to spend, and an API key; made through the services, as a company would."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from federation.agreements import services as agreement_services
from federation.coins.bench.http import Call
from federation.coins.services import coins_earn_for_purchase
from partners import services as partner_services
from partners.actors import Actor
from partners.models import ApiScope, MemberAccount, Partner

SYSTEM = Actor.system()
HOST, BRAND = "kirari", "midori-fitness"
FUNDING_YEN = Decimal(10_000_000)  # 100,000 coins at 1 coin per 100 yen
PURCHASE_YEN = "1000"
PURCHASES = "/api/v1/coins/purchases"
REDEMPTIONS = "/api/v1/coins/redemptions"
BALANCE = "/api/v1/coins/balance"


def _program(yen_per_coin: str, per_100_yen: str) -> dict[str, Any]:
    return {
        "yen_per_coin": yen_per_coin,
        "rate_to_shared": yen_per_coin,
        "coins_per_100_yen": per_100_yen,
        "expiry_days": 365,
        "expiry_after_activity": True,
    }


def program_in_force(host: Partner, brand: Partner) -> None:
    """An agreement of the host and a brand, signed by both, giving the host the demo's coin
    program (1 coin per 100 yen, expiring 365 days after the last activity)."""
    terms = {
        "data_flows": [
            {
                "provider": host.slug,
                "recipient": brand.slug,
                "purpose": "coin_exchange",
                "fields": ["name"],
            }
        ],
        "coin": {
            "exchange": True,
            "programs": {host.slug: _program("1", "1"), brand.slug: _program("0.5", "4")},
        },
    }
    today = timezone.localdate()
    agreement = agreement_services.agreement_create(
        title="Coin benchmark: the host's program",
        host=host,
        parties=[
            agreement_services.PartyInput(p, p.name_latin, f"bench@{p.slug}.example")
            for p in (host, brand)
        ],
        terms=terms,
        effective_from=today,
        valid_until=today + timedelta(days=365),
        actor=SYSTEM,
    )
    version = agreement_services.version_propose(version=agreement.versions.get(), actor=SYSTEM)
    for party in (host, brand):
        version = agreement_services.version_sign(
            version=version, partner=party, signed_by="Benchmark", actor=SYSTEM
        )


def api_key(partner: Partner) -> str:
    """A read and write key for ``partner``, issued by the demo's alliance manager."""
    manager = get_user_model().objects.get(username="manager")
    issued = partner_services.api_key_issue(
        partner=partner,
        name="Coin benchmark",
        scopes=[ApiScope.READ, ApiScope.WRITE],
        actor=Actor(user=manager),
    )
    return issued.plaintext


def host_members(
    host: Partner, count: int, *, funded: int
) -> tuple[list[MemberAccount], list[MemberAccount]]:
    """``count`` of the host's active members: the first ``funded`` with coins enough to spend
    in every run (one large purchase through the service), then the others, untouched."""
    members = list(
        MemberAccount.objects.filter(partner=host, status=MemberAccount.Status.ACTIVE).order_by(
            "member_number"
        )[:count]
    )
    if len(members) < count:
        raise RuntimeError(f"{host.slug} has {len(members)} active members, not {count}.")
    for n, member in enumerate(members[:funded]):
        coins_earn_for_purchase(
            company=host,
            member=member,
            amount_yen=FUNDING_YEN,
            order_id=f"BENCH-FUND-{n}",
            actor=SYSTEM,
        )
    return members[:funded], members[funded:]


def earn_and_redeem(members: Sequence[MemberAccount]) -> Callable[[random.Random], Call]:
    """Each call a purchase (1,000 yen: 10 coins) or a redemption of one coin, at random, for
    a member at random; a new order id and reference each time."""
    numbers = [member.member_number for member in members]

    def call(rng: random.Random) -> Call:
        member, unique = rng.choice(numbers), uuid.uuid4().hex
        if rng.random() < 0.5:
            purchase = {"member_number": member, "amount_yen": PURCHASE_YEN, "order_id": unique}
            return Call("POST /coins/purchases", "POST", PURCHASES, _json(purchase), expect=201)
        redemption = {"member_number": member, "coins": 1, "reference": unique}
        return Call("POST /coins/redemptions", "POST", REDEMPTIONS, _json(redemption), expect=201)

    return call


def balance_read(member: MemberAccount) -> Callable[[random.Random], Call]:
    path = f"{BALANCE}?member_number={member.member_number}"
    return lambda _rng: Call("GET /coins/balance", "GET", path)


def _json(body: Mapping[str, object]) -> bytes:
    return json.dumps(body).encode()
