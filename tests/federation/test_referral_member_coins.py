"""Coins for the referred member: paid by the offer's source on the counted conversion of
the offer's kind, once however the report is retried, after approval for a flagged one, not
at all without the member's consent to coin exchange (audited), and taken back on refund."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from consent.services import consent_withdraw
from federation.coins.models import CoinClawback
from federation.coins.selectors import balance_of
from federation.holdouts.models import Holdout
from federation.holdouts.selectors import is_held_out
from federation.holdouts.services import holdout_for
from federation.models import Agreement
from federation.referrals.models import ReferralConversion
from federation.referrals.services import (
    referral_conversion_approve,
    referral_conversion_refund,
    referral_offer_create,
)
from federation.referrals.services.member_coins import reward_key
from partners.models import AuditEvent, MemberAccount, Partner, WebhookDelivery, WebhookEndpoint
from partners.services import member_person
from tests.conftest import Key
from tests.factories import flow, grant_consent, make_agreement, make_notice
from tests.federation.referral_world import (
    LANDING,
    PURPOSE,
    SYSTEM,
    campaign_link,
    click,
    consenting_member,
    post,
    referral_terms,
    report,
    sale,
)

pytestmark = pytest.mark.django_db
COINS = 300


@pytest.fixture
def agreed(host: Partner, partner: Partner) -> Agreement:
    """Referral terms, and the host's coin program, which it may post for the brand's
    members (a coin-exchange flow from the brand to the host)."""
    make_notice(
        purposes=[PURPOSE, "coin_exchange"], recipients=[host, partner], data_items=["email"]
    )
    terms = referral_terms(host, partner)
    terms["data_flows"].append(flow(partner, host, "coin_exchange", "email"))
    terms["coin"] = {
        "exchange": True,
        "programs": {
            host.slug: {"yen_per_coin": "1", "rate_to_shared": "1"},
            partner.slug: {"yen_per_coin": "1", "rate_to_shared": "1"},
        },
    }
    return make_agreement(host, partner, terms=terms)


@pytest.fixture
def hanako(host: Partner, partner: Partner, agreed: Agreement) -> MemberAccount:
    member = consenting_member(partner, "B-1", host)
    grant_consent(member, host, "coin_exchange")
    return member


@pytest.fixture
def hooks(host: Partner, partner: Partner) -> None:
    for who in (host, partner):
        WebhookEndpoint.objects.create(
            partner=who,
            url=f"https://hooks.{who.slug}.example/sanpo",
            events=["referrals.member_coins_paid"],
        )


def _offer(host: Partner, partner: Partner, **kw: Any) -> Any:
    return referral_offer_create(
        source=host,
        destination=partner,
        texts={"title_ja": "秋の新作", "title_en": "Autumn collection"},
        landing_url=LANDING,
        member_coins=COINS,
        actor=SYSTEM,
        **kw,
    )


def _coins(member: MemberAccount) -> int:
    return balance_of(member_person(member))


def test_a_counted_sale_pays_the_member_once_and_a_refund_takes_them_back(
    host: Partner, partner: Partner, partner_key: Key, hanako: MemberAccount, hooks: None
) -> None:
    link = campaign_link(_offer(host, partner))
    click(link)
    body = sale(hanako, "ORD-1", tokens=[link.token])
    first = post(partner_key, "conversions", body, idempotency="k-1")
    assert first.status_code == 201, first.json()
    assert first.json()["member_coins"] == COINS
    replay = post(partner_key, "conversions", body, idempotency="k-1")
    again = post(partner_key, "conversions", body, idempotency="k-2")
    assert (replay.json(), again.status_code) == (first.json(), 409)
    assert _coins(hanako) == COINS
    conversion = ReferralConversion.objects.get()
    earned = conversion.member_coins_earned
    assert earned is not None
    assert earned.partner_id == host.pk  # the source funds them
    assert AuditEvent.objects.filter(action="referrals.member_coins_paid").count() == 1
    told = WebhookDelivery.objects.filter(event_type="referrals.member_coins_paid")
    numbers = {d.endpoint.partner_id: d.payload["data"].get("member_number") for d in told}
    assert numbers == {host.pk: None, partner.pk: "B-1"}  # the source never hears who

    refund = post(partner_key, "refunds", {"order_id": "ORD-1"})
    assert refund.status_code == 200, refund.json()
    assert _coins(hanako) == 0
    assert CoinClawback.objects.get(earned_by=earned).recovered == COINS


def test_a_lead_pays_nothing_when_the_offer_pays_on_sales(
    host: Partner, partner: Partner, hanako: MemberAccount
) -> None:
    link = campaign_link(_offer(host, partner))
    click(link)
    report(partner, hanako, "L-1", link.token, kind="lead")
    assert _coins(hanako) == 0
    other = campaign_link(_offer(host, partner, member_coins_on="lead"), "winter")
    click(other)
    assert report(partner, hanako, "L-2", other.token, kind="lead").member_coins_earned_id
    assert _coins(hanako) == COINS


def test_a_flagged_conversion_pays_on_approval_only(
    host: Partner, partner: Partner, hanako: MemberAccount
) -> None:
    link = campaign_link(_offer(host, partner))
    click(link)
    report(partner, hanako, "O-1", link.token)
    second = report(partner, hanako, "O-2", link.token)  # a duplicate: flagged
    assert second.state == "flagged"
    assert _coins(hanako) == COINS
    referral_conversion_refund(
        conversion=ReferralConversion.objects.get(order_id="O-1"), actor=SYSTEM
    )
    assert _coins(hanako) == 0
    approved = referral_conversion_approve(conversion=second, reason="two orders", actor=SYSTEM)
    assert approved.member_coins_earned_id is not None
    assert _coins(hanako) == COINS


def test_without_consent_to_coin_exchange_the_conversion_counts_and_pays_no_coins(
    host: Partner, partner: Partner, hanako: MemberAccount
) -> None:
    consent_withdraw(
        member=hanako,
        purpose_code="coin_exchange",
        recipient=host,
        channel="partner_app",
        occurred_at=timezone.now(),
        actor=SYSTEM,
    )
    link = campaign_link(_offer(host, partner))
    click(link)
    conversion = report(partner, hanako, "O-1", link.token)
    assert (conversion.state, conversion.member_coins_earned_id) == ("recorded", None)
    assert _coins(hanako) == 0
    refused = AuditEvent.objects.get(action="referrals.member_coins_refused")
    assert refused.detail["refused"] == "consent_required"


def test_a_member_held_out_of_the_reward_is_paid_nothing_and_the_sale_counts(
    host: Partner, partner: Partner, hanako: MemberAccount
) -> None:
    offer = _offer(host, partner)
    person = member_person(hanako)
    seed = next(
        f"held-{n}"
        for n in range(1000)
        if is_held_out(Holdout(percent=Decimal(50), seed=f"held-{n}"), person.pk)
    )
    holdout_for(
        kind=Holdout.Kind.REFERRAL_REWARD,
        key=reward_key(offer.pk),
        company=host,
        percent=Decimal(50),
        seed=seed,
    )
    link = campaign_link(offer)
    click(link)
    conversion = report(partner, hanako, "ORD-H", link.token)
    assert conversion.state == ReferralConversion.State.RECORDED
    assert conversion.member_coins_earned_id is None
    assert _coins(hanako) == 0
    refused = AuditEvent.objects.get(action="referrals.member_coins_refused")
    assert refused.detail["refused"] == "held_out"
