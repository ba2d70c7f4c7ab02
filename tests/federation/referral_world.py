"""The referral tests' world: the host recommends the brand's products (and the brand the
host's) under an agreement whose referral terms pay 500 yen a sale and 200 yen a lead, count
clicks for 30 days and review fees for 14; members who consent to referral tracking."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from federation.models import Agreement
from federation.referrals.models import ReferralLink, ReferralOffer
from federation.referrals.services import (
    Referral,
    referral_click,
    referral_conversion_report,
    referral_link_create,
    referral_offer_create,
)
from partners.actors import Actor
from partners.models import MemberAccount, Partner
from tests.conftest import Key, client_for
from tests.factories import flow, grant_consent, make_agreement, make_member, make_notice

SYSTEM = Actor.system()
PURPOSE = "referral_tracking"
LANDING = "https://brand.example/autumn?utm_source=sanpo"


def referral_terms(host: Partner, partner: Partner, **referral: Any) -> dict[str, Any]:
    return {
        "data_flows": [
            flow(host, partner, PURPOSE, "email"),
            flow(partner, host, PURPOSE, "email"),
        ],
        "referral": {
            "fee_yen": "500",
            "attribution_days": 30,
            "lead_fee_yen": "200",
            "review_days": 14,
            **referral,
        },
    }


def referral_agreement(host: Partner, partner: Partner, **referral: Any) -> Agreement:
    make_notice(purposes=[PURPOSE], recipients=[host, partner], data_items=["email"])
    return make_agreement(host, partner, terms=referral_terms(host, partner, **referral))


def consenting_member(owner: Partner, number: str, other: Partner, **values: Any) -> MemberAccount:
    """A member of ``owner`` who consents to referral tracking with ``other``."""
    member = make_member(owner, number, **values)
    grant_consent(member, other, PURPOSE)
    return member


def host_offer(host: Partner, partner: Partner, **fees: Any) -> ReferralOffer:
    """The host recommends the brand's autumn collection, since a week ago: a click some
    hours back is in its validity even just after midnight in Tokyo."""
    return referral_offer_create(
        source=host,
        destination=partner,
        texts={"title_ja": "秋の新作", "title_en": "Autumn collection"},
        landing_url=LANDING,
        fees=fees,
        valid_from=timezone.localdate() - timedelta(days=7),
        actor=SYSTEM,
    )


def campaign_link(offer: ReferralOffer, campaign: str = "autumn-flyers") -> ReferralLink:
    return referral_link_create(offer=offer, campaign=campaign, actor=SYSTEM)


def click(link: ReferralLink, at: datetime | None = None, address: str = "203.0.113.7") -> Any:
    return referral_click(
        token=link.token, address=address, user_agent="Mozilla/5.0 Chrome/120", at=at
    ).click


def post(key: Key, path: str, body: Any, idempotency: str | None = "auto") -> Any:
    headers: dict[str, Any] = {}
    if idempotency is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = (
            str(uuid.uuid4()) if idempotency == "auto" else idempotency
        )
    return client_for(key).post(f"/api/v1/referrals/{path}", body, format="json", **headers)


def sale(member: MemberAccount, order_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "sale",
        "member_number": member.member_number,
        "order_id": order_id,
        "amount_yen": "12000",
        **extra,
    }


def report(partner: Partner, member: MemberAccount, order: str, *tokens: str, **kw: Any) -> Any:
    """A conversion the destination reports for ``member`` through ``tokens``."""
    return referral_conversion_report(
        destination=partner,
        member=member,
        kind=kw.get("kind", "sale"),
        order_id=order,
        amount_yen=kw.get("amount", Decimal(10000)),
        occurred_at=kw.get("at") or timezone.now(),
        referral=Referral(tokens=tokens),
        actor=SYSTEM,
    )
