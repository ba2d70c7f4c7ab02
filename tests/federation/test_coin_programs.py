"""Coins as a company posts them for a member: the program in force, the agreement and consent
checked at that moment, the purchase rate capped by the Premiums and Representations Act, the
return window, expiry, refunds by order id, and redemptions at another company."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from consent.services import consent_withdraw
from federation.coins.access import access_purchase
from federation.coins.models import CoinAccount, CoinLot, CoinLotUse
from federation.coins.selectors import balance_of
from federation.coins.services import (
    coins_earn_for_purchase,
    coins_redeem_at,
    coins_refund_order,
    program_for,
    purchase_coins,
)
from federation.models import Agreement
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import MemberAccount, Partner, Person
from tests.factories import coin_terms, grant_consent, make_agreement, make_member, make_notice

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


@pytest.fixture
def coins_agreed(host: Partner, partner: Partner) -> Agreement:
    make_notice(purposes=["coin_exchange"], recipients=[partner], data_items=["name"])
    return make_agreement(
        host, partner, terms=coin_terms(host, partner, coins_per_100_yen="1", pending_days=14)
    )


@pytest.fixture
def member(host: Partner, partner: Partner, coins_agreed: Agreement) -> MemberAccount:
    member = make_member(host, "K-1")
    grant_consent(member, partner, "coin_exchange")
    return member


def _earn(company: Partner, member: MemberAccount, yen: str, order: str) -> Any:
    return coins_earn_for_purchase(
        company=company, member=member, amount_yen=Decimal(yen), order_id=order, actor=SYSTEM
    )


def _person(member: MemberAccount) -> Person:
    member.refresh_from_db()
    assert member.person is not None
    return member.person


def test_the_own_company_earns_at_its_rate_pending_for_its_return_window(
    host: Partner, member: MemberAccount
) -> None:
    earned, coins, capped = _earn(host, member, "12345", "A-1")
    assert (coins, capped) == (123, False)  # 1 coin per 100 yen, floored
    lot = CoinLot.objects.get(earned_by=earned)
    assert lot.pending_until is not None
    assert lot.pending_until - lot.issued_at == timedelta(days=14)
    assert balance_of(_person(member), CoinAccount.Kind.PENDING) == 123
    assert earned.reason["order_id"] == "A-1"


def test_an_order_earns_once(host: Partner, member: MemberAccount) -> None:
    _earn(host, member, "1000", "A-1")
    with pytest.raises(ApplicationError) as refused:
        _earn(host, member, "1000", "A-1")
    assert refused.value.code == "duplicate_order"
    assert CoinLot.objects.count() == 1


def test_another_company_earns_under_the_agreement_while_the_member_consents(
    partner: Partner, member: MemberAccount
) -> None:
    earned, coins, _ = _earn(partner, member, "2000", "MF-1")
    assert coins == 200
    assert earned.partner == partner
    consent_withdraw(
        member=member,
        purpose_code="coin_exchange",
        recipient=partner,
        channel="call_centre",
        occurred_at=timezone.now(),
        actor=SYSTEM,
    )
    with pytest.raises(ApplicationError) as refused:
        _earn(partner, member, "2000", "MF-2")
    assert refused.value.code == "consent_required"


def test_a_company_with_no_coin_agreement_is_refused(
    host: Partner, member: MemberAccount, outsider: Partner
) -> None:
    with pytest.raises(ApplicationError) as refused:
        _earn(outsider, member, "2000", "X-1")
    assert refused.value.code == "no_agreement"
    assert not CoinLot.objects.exists()


def test_purchase_coins_are_capped_at_the_premium_limit(
    host: Partner, partner: Partner, member: MemberAccount
) -> None:
    # The partner's program: 10 coins per 100 yen at 0.5 yen = 5%; under 1,000 yen the cap is
    # 200 yen of coins (400 coins), at 1,000 yen and more 20% of the price.
    program = program_for(partner, member)
    program.settings["coins_per_100_yen"] = "100"  # as if the terms allowed 50%
    assert purchase_coins(program, Decimal(500)) == (400, True)
    assert purchase_coins(program, Decimal(10_000)) == (4000, True)
    program.settings["coins_per_100_yen"] = "10"
    assert purchase_coins(program, Decimal(10_000)) == (1000, False)


def test_a_refund_takes_back_the_refunded_share_of_the_order(
    partner: Partner, member: MemberAccount
) -> None:
    _earn(partner, member, "3000", "MF-9")  # 300 coins, spendable at once
    person = _person(member)
    assert balance_of(person) == 300
    earned = access_purchase(partner, "MF-9")
    clawback = coins_refund_order(earned=earned, refund_yen=Decimal(1000), actor=SYSTEM)
    assert (clawback.requested, clawback.recovered) == (100, 100)
    assert balance_of(person) == 200
    coins_refund_order(earned=earned, refund_yen=None, actor=SYSTEM)  # the rest: 200 coins
    with pytest.raises(ApplicationError) as refused:
        coins_refund_order(earned=earned, refund_yen=None, actor=SYSTEM)
    assert refused.value.code == "nothing_to_refund"
    with pytest.raises(ApplicationError) as missing:
        access_purchase(partner, "nope")
    assert missing.value.code == "not_found"


def test_coins_earned_at_one_company_are_spent_at_another(
    host: Partner, partner: Partner, member: MemberAccount
) -> None:
    _earn(partner, member, "3000", "MF-1")
    spent = coins_redeem_at(
        company=host, member=member, coins=120, reference="till-7", actor=SYSTEM
    )
    uses = CoinLotUse.objects.filter(transaction=spent)
    assert [(use.issuer_id, use.coins, use.yen_value) for use in uses] == [
        (partner.pk, 120, Decimal("60.0000"))
    ]
    assert balance_of(_person(member)) == 180


def test_expiry_after_the_last_activity_moves_with_each_purchase(
    host: Partner, partner: Partner
) -> None:
    make_notice(purposes=["coin_exchange"], recipients=[partner], data_items=["name"])
    terms = coin_terms(
        host, partner, coins_per_100_yen="1", expiry_days=365, expiry_after_activity=True
    )
    make_agreement(host, partner, terms=terms)
    member = make_member(host, "K-2")
    first, _, _ = _earn(host, member, "1000", "A-1")
    CoinLot.objects.filter(earned_by=first).update(expires_at=timezone.now() + timedelta(days=3))
    _earn(host, member, "1000", "A-2")
    expiries = set(CoinLot.objects.values_list("expires_at__date", flat=True))
    assert expiries == {timezone.localdate(timezone.now() + timedelta(days=365))}
