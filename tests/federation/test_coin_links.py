"""One person, matched across the host and two partners, holds coins of all three; a company
shows and spends only the coins of the issuers the member linked with it (an agreement in
force agreeing coin exchange, and the member's consent to it), checked at every use: a
consent given links at once, a consent withdrawn or an agreement suspended unlinks at once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.services import consent_withdraw
from federation import services
from federation.coins.links import coin_links, linked_issuers
from federation.coins.models import CoinAccount, CoinLot, CoinLotUse
from federation.coins.selectors import balance_of, balances_of, balances_within, ledger_verify
from federation.coins.services import (
    Grant,
    coins_earn,
    coins_hold_at,
    coins_redeem_at,
    coins_release_due,
    hold_capture,
)
from federation.models import Agreement
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import MemberAccount, Partner, Person
from partners.services.matching import link_unlinked_members
from tests.conftest import Key, client_for
from tests.factories import (
    coin_terms,
    grant_consent,
    make_agreement,
    make_member,
    make_notice,
    make_partner,
)

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
EMAIL = "hanako.sato@example.jp"
YEN = Decimal("1")


@pytest.fixture
def cafe(db: Any) -> Partner:
    return make_partner("cafe-co")


@pytest.fixture
def members(host: Partner, partner: Partner, cafe: Partner) -> dict[str, MemberAccount]:
    """Hanako at the host (K-1), the brand (A-1) and the cafe (B-1): one person. The host has
    a coin agreement with each partner; she consents to coin exchange of her host account
    with the brand only. Her coins: 30 of the host's, then 50 of the cafe's, then 100 of the
    brand's, oldest first."""
    make_notice(purposes=["coin_exchange"], recipients=[host, partner, cafe], data_items=["name"])
    event = {"party": partner.slug, "type": "event_attended", "coins": 30}
    terms = coin_terms(host, partner, actions=[event], coins_per_100_yen="1")
    make_agreement(host, partner, terms=terms)
    make_agreement(host, cafe, terms=coin_terms(host, cafe), title="Host and Cafe")
    found = {
        "host": make_member(host, "K-1", email=EMAIL),
        "brand": make_member(partner, "A-1", email=EMAIL),
        "cafe": make_member(cafe, "B-1", email=EMAIL),
    }
    link_unlinked_members()
    for member in found.values():
        member.refresh_from_db()
    assert len({member.person_id for member in found.values()}) == 1
    grant_consent(found["host"], partner, "coin_exchange")
    person = _person(found)
    now = timezone.now()
    for days, issuer, coins in ((3, host, 30), (2, cafe, 50), (1, partner, 100)):
        coins_earn(Grant(person, issuer, coins, YEN), actor=SYSTEM, now=now - timedelta(days=days))
    return found


def _person(members: dict[str, MemberAccount]) -> Person:
    person_id = members["host"].person_id
    assert person_id is not None
    return Person(pk=person_id)


def _brand_and_cafe(partner: Partner, cafe: Partner) -> Agreement:
    """The brand and the cafe agree coin exchange between them (in an agreement the host
    hosts, as every agreement)."""
    terms = coin_terms(partner, cafe)
    return make_agreement(host_of(partner), partner, cafe, terms=terms, title="Brand and Cafe")


def host_of(partner: Partner) -> Partner:
    return Partner.objects.get(kind=Partner.Kind.HOST)


def _redeem(company: Partner, member: MemberAccount, coins: int, reference: str) -> Any:
    return coins_redeem_at(
        company=company, member=member, coins=coins, reference=reference, actor=SYSTEM
    )


def _balance(key: Key, number: str) -> dict[str, Any]:
    response = client_for(key).get(f"/api/v1/coins/balance?member_number={number}")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def _history(key: Key, number: str) -> list[dict[str, Any]]:
    response = client_for(key).get(f"/api/v1/coins/history?member_number={number}")
    assert response.status_code == 200, response.content
    rows: list[dict[str, Any]] = response.json()["results"]
    return rows


def _withdraw(member: MemberAccount, recipient: Partner) -> None:
    consent_withdraw(
        member=member,
        purpose_code="coin_exchange",
        recipient=recipient,
        channel="call_centre",
        occurred_at=timezone.now(),
        actor=SYSTEM,
    )


def test_an_unlinked_issuers_coins_are_invisible_and_unspendable(
    host: Partner,
    partner: Partner,
    cafe: Partner,
    partner_key: Key,
    members: dict[str, MemberAccount],
) -> None:
    person = _person(members)
    assert linked_issuers(partner, person) == {partner.pk, host.pk}
    assert linked_issuers(cafe, person) == {cafe.pk}  # her host account consents to the brand only

    balance = _balance(partner_key, "A-1")
    assert balance["balances"] == {"available": 130, "pending": 0, "held": 0}
    assert [lot["issuer"] for lot in balance["lots"]] == [host.slug, partner.slug]
    assert cafe.slug not in str(balance)

    with pytest.raises(ApplicationError) as refused:
        _redeem(partner, members["brand"], 131, "R-1")
    assert refused.value.code == "insufficient_coins"
    assert refused.value.extra["available"] == 130  # what the brand may spend, not 180
    with pytest.raises(ApplicationError) as beyond_all:
        _redeem(partner, members["brand"], 181, "R-2")  # beyond the whole wallet too
    assert beyond_all.value.extra["available"] == 130

    spent = _redeem(partner, members["brand"], 130, "R-3")
    used = {use.issuer_id: use.coins for use in CoinLotUse.objects.filter(transaction=spent)}
    assert used == {host.pk: 30, partner.pk: 100}
    assert CoinLot.objects.get(issuer=cafe).remaining == 50
    assert balance_of(person) == 50  # the wallet still holds the cafe's coins
    assert _balance(partner_key, "A-1")["balances"]["available"] == 0
    assert ledger_verify() is None


def test_consent_links_at_once_and_withdrawal_or_suspension_unlinks_at_once(
    host: Partner,
    partner: Partner,
    cafe: Partner,
    partner_key: Key,
    members: dict[str, MemberAccount],
) -> None:
    person = _person(members)
    between = _brand_and_cafe(partner, cafe)
    assert cafe.pk not in linked_issuers(partner, person)  # an agreement, but no consent yet

    grant_consent(members["cafe"], partner, "coin_exchange")  # her cafe account: with the brand
    assert cafe.pk in linked_issuers(partner, person)
    assert _balance(partner_key, "A-1")["balances"]["available"] == 180

    _withdraw(members["cafe"], partner)
    assert cafe.pk not in linked_issuers(partner, person)
    assert _balance(partner_key, "A-1")["balances"]["available"] == 130
    with pytest.raises(ApplicationError) as refused:
        _redeem(partner, members["brand"], 131, "R-1")
    assert refused.value.extra["available"] == 130

    grant_consent(members["brand"], cafe, "coin_exchange")  # the other way round links too
    assert cafe.pk in linked_issuers(partner, person)
    services.agreement_suspend(agreement=between, reason="Audit.", actor=SYSTEM)
    assert cafe.pk not in linked_issuers(partner, person)
    assert _balance(partner_key, "A-1")["balances"]["available"] == 130
    with pytest.raises(ApplicationError):
        _redeem(partner, members["brand"], 131, "R-2")


def test_an_agreement_without_coin_exchange_links_nothing(
    partner: Partner, cafe: Partner, members: dict[str, MemberAccount]
) -> None:
    terms = coin_terms(partner, cafe)
    terms["coin"]["exchange"] = False
    make_agreement(host_of(partner), partner, cafe, terms=terms, title="Brand and Cafe")
    grant_consent(members["cafe"], partner, "coin_exchange")
    assert cafe.pk not in linked_issuers(partner, _person(members))


def test_a_redemption_across_linked_issuers_takes_the_oldest_first(
    host: Partner, partner: Partner, cafe: Partner, members: dict[str, MemberAccount]
) -> None:
    _brand_and_cafe(partner, cafe)
    grant_consent(members["cafe"], partner, "coin_exchange")
    spent = _redeem(partner, members["brand"], 60, "R-1")
    used = {use.issuer_id: use.coins for use in CoinLotUse.objects.filter(transaction=spent)}
    assert used == {host.pk: 30, cafe.pk: 30}
    assert balance_of(_person(members)) == 120
    assert ledger_verify() is None


def test_held_coins_show_only_for_linked_issuers(
    host: Partner,
    partner: Partner,
    cafe: Partner,
    partner_key: Key,
    members: dict[str, MemberAccount],
) -> None:
    person = _person(members)
    hold = coins_hold_at(
        company=cafe,
        member=members["cafe"],
        coins=40,
        timeout=timedelta(minutes=15),
        reference="H-1",
        actor=SYSTEM,
    )
    assert {use.issuer_id for use in CoinLotUse.objects.filter(transaction=hold.held_by)} == {
        cafe.pk
    }
    assert balance_of(person, CoinAccount.Kind.HOLD) == 40
    assert _balance(partner_key, "A-1")["balances"] == {"available": 130, "pending": 0, "held": 0}

    _brand_and_cafe(partner, cafe)
    grant_consent(members["cafe"], partner, "coin_exchange")
    assert coin_links(partner, person).complete
    shown = _balance(partner_key, "A-1")["balances"]
    assert shown == {"available": 140, "pending": 0, "held": 40}
    everyone = frozenset({host.pk, partner.pk, cafe.pk})
    assert balances_within(person, everyone) == balances_of(person)  # both forms agree


def test_the_history_names_no_unlinked_company_nor_its_balance(
    host: Partner,
    partner: Partner,
    cafe: Partner,
    partner_key: Key,
    members: dict[str, MemberAccount],
) -> None:
    _redeem(cafe, members["cafe"], 20, "CAFE-1")  # the cafe's own coins, at the cafe
    rows = _history(partner_key, "A-1")
    assert [(row["kind"], row["coins"], row["company"]) for row in rows] == [
        ("earn_purchase", 100, partner.slug),
        ("earn_purchase", 30, host.slug),
    ]
    assert {row["balance_after"] for row in rows} == {None}
    assert cafe.slug not in str(rows)

    _brand_and_cafe(partner, cafe)
    grant_consent(members["cafe"], partner, "coin_exchange")
    rows = _history(partner_key, "A-1")
    assert [(row["kind"], row["company"]) for row in rows] == [
        ("redeem", cafe.slug),
        ("earn_purchase", partner.slug),
        ("earn_purchase", cafe.slug),
        ("earn_purchase", host.slug),
    ]
    assert [row["balance_after"] for row in rows] == [160, 180, 80, 30]


def test_the_links_cost_a_few_queries_whatever_the_number_of_lots(
    host: Partner, partner: Partner, cafe: Partner, members: dict[str, MemberAccount]
) -> None:
    person = _person(members)
    _brand_and_cafe(partner, cafe)
    grant_consent(members["cafe"], partner, "coin_exchange")
    with CaptureQueriesContext(connection) as few:
        assert linked_issuers(partner, person) == {host.pk, partner.pk, cafe.pk}
    for _ in range(20):
        coins_earn(Grant(person, cafe, 5, YEN), actor=SYSTEM)
        coins_earn(Grant(person, host, 5, YEN), actor=SYSTEM)
    with CaptureQueriesContext(connection) as many:
        assert linked_issuers(partner, person) == {host.pk, partner.pk, cafe.pk}
    assert len(many) == len(few)
    assert len(few) <= 2 + 2 * 8  # the issuers, the accounts, then per other issuer


def test_the_api_refuses_beyond_the_linked_coins_and_answers_only_linked_balances(
    partner: Partner, partner_key: Key, members: dict[str, MemberAccount]
) -> None:
    def redeem(coins: int, key: str) -> Any:
        return client_for(partner_key).post(
            "/api/v1/coins/redemptions",
            {"member_number": "A-1", "coins": coins, "reference": key},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
        )

    refused = redeem(150, "links-1")
    assert refused.status_code == 409, refused.content
    assert refused.json()["error"]["code"] == "insufficient_coins"
    assert "180" not in refused.content.decode()
    spent = redeem(30, "links-2")
    assert spent.status_code == 201, spent.content
    assert spent.json()["balances"] == {"available": 100, "pending": 0, "held": 0}
    assert balance_of(_person(members)) == 150  # the cafe's 50 are still hers


def test_an_action_answers_only_the_linked_balances(
    partner_key: Key, members: dict[str, MemberAccount]
) -> None:
    answer = client_for(partner_key).post(
        "/api/v1/coins/actions",
        {"member_number": "A-1", "action_type": "event_attended", "content_id": "EV-1"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="links-action-1",
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["balances"] == {"available": 160, "pending": 0, "held": 0}
    assert balance_of(_person(members)) == 210  # and the cafe's 50


def test_the_balance_read_does_not_grow_with_the_history(
    host: Partner, partner: Partner, partner_key: Key, members: dict[str, MemberAccount]
) -> None:
    with CaptureQueriesContext(connection) as short:
        _balance(partner_key, "A-1")
    for n in range(15):  # a long history, the same lots with coins left
        _redeem(partner, members["brand"], 1, f"R-{n}")
        coins_earn(Grant(_person(members), partner, 1, YEN), actor=SYSTEM)
    with CaptureQueriesContext(connection) as long:
        body = _balance(partner_key, "A-1")
    assert body["balances"]["available"] == 130
    assert len(long) <= len(short)  # the first read also warms per-key caches


def test_the_history_hides_what_does_not_say_whose_coins_it_moved(
    host: Partner,
    partner: Partner,
    cafe: Partner,
    partner_key: Key,
    members: dict[str, MemberAccount],
) -> None:
    """While the cafe is unlinked, the brand sees the host's hold (its lots say they are the
    host's coins) but not the host's capture of it (the capture does not say whose coins) nor
    a release batch (nor does it); once everything is linked, all of it."""
    person = _person(members)
    hold = coins_hold_at(
        company=host,
        member=members["host"],
        coins=20,
        timeout=timedelta(minutes=15),
        reference="H-1",
        actor=SYSTEM,
    )
    hold_capture(hold, actor=SYSTEM)
    pending_until = timezone.now() + timedelta(minutes=1)
    coins_earn(Grant(person, cafe, 7, YEN, pending_until=pending_until), actor=SYSTEM)
    assert coins_release_due(now=pending_until + timedelta(seconds=1)) == 1

    kinds = [(row["kind"], row["account"], row["company"]) for row in _history(partner_key, "A-1")]
    assert ("hold", "available", host.slug) in kinds
    assert all(kind not in {"capture", "release"} for kind, _account, _company in kinds)
    assert cafe.slug not in str(kinds)

    _brand_and_cafe(partner, cafe)
    grant_consent(members["cafe"], partner, "coin_exchange")
    kinds = [row["kind"] for row in _history(partner_key, "A-1")]
    assert {"capture", "release", "hold"} <= set(kinds)
