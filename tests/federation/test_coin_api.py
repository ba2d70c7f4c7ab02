"""The coin endpoints: a purchase earns at the program's rate, a refund takes back, a
redemption spends another company's coins under the agreement and the member's consent; bad
input is a clear 4xx with nothing written; a refused retry is refused the same way."""

from __future__ import annotations

import importlib
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from consent.services import consent_withdraw
from federation import services
from federation.coins.models import CoinLot, CoinTransaction
from federation.models import Agreement
from partners.actors import Actor
from partners.models import MemberAccount, Partner, WebhookDelivery, WebhookEndpoint
from partners.pii import pseudonym_for
from tests.conftest import Key, client_for
from tests.factories import coin_terms, grant_consent, make_agreement, make_member, make_notice

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


@pytest.fixture
def agreed(host: Partner, partner: Partner) -> Agreement:
    make_notice(purposes=["coin_exchange"], recipients=[partner], data_items=["name"])
    return make_agreement(host, partner, terms=coin_terms(host, partner, coins_per_100_yen="1"))


@pytest.fixture
def hanako(host: Partner, partner: Partner, agreed: Agreement) -> MemberAccount:
    """A host member who consents to coin exchange with the partner."""
    member = make_member(host, "K-1")
    grant_consent(member, partner, "coin_exchange")
    return member


def _post(key: Key, path: str, body: Any, idempotency: str | None = "auto") -> Any:
    headers: dict[str, Any] = {}
    if idempotency is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = (
            str(uuid.uuid4()) if idempotency == "auto" else idempotency
        )
    return client_for(key).post(f"/api/v1/coins/{path}", body, format="json", **headers)


def _as_partner(hanako: MemberAccount, partner: Partner) -> dict[str, str]:
    return {"member": pseudonym_for(hanako.pk, partner.pk)}


def test_a_partner_earns_for_a_host_members_purchase_and_the_host_hears_of_it(
    host: Partner, partner: Partner, partner_key: Key, hanako: MemberAccount
) -> None:
    WebhookEndpoint.objects.create(
        partner=host, url="https://hooks.host.example/sanpo", events=["coins.earned"]
    )
    body = {**_as_partner(hanako, partner), "amount_yen": "3980", "order_id": "MF-1"}
    response = _post(partner_key, "purchases", body)

    assert response.status_code == 201, response.content
    assert response.json()["coins"] == 398
    assert response.json()["balances"] == {"available": 398, "pending": 0, "held": 0}
    delivery = WebhookDelivery.objects.get(event_type="coins.earned")
    assert delivery.payload["data"]["member_number"] == "K-1"

    again = _post(partner_key, "purchases", body)  # the same order under a new key
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "duplicate_order"


def test_the_host_redeems_coins_the_partner_issued_and_the_partner_hears_of_it(
    host: Partner, partner: Partner, partner_key: Key, host_key: Key, hanako: MemberAccount
) -> None:
    WebhookEndpoint.objects.create(
        partner=partner, url="https://hooks.brand.example/sanpo", events=["coins.redeemed"]
    )
    body = {**_as_partner(hanako, partner), "amount_yen": "5000", "order_id": "MF-2"}
    assert _post(partner_key, "purchases", body).status_code == 201
    # The host's own program has a coin program in the same agreement.
    spend = {"member_number": "K-1", "coins": 200, "reference": "TILL-1"}
    response = _post(host_key, "redemptions", spend)

    assert response.status_code == 201, response.content
    assert response.json()["balances"]["available"] == 300
    delivery = WebhookDelivery.objects.get(event_type="coins.redeemed")
    assert delivery.payload["data"] == {
        "company": host.slug,
        "coins": 200,
        "transaction_id": response.json()["transaction_id"],
    }
    balance = client_for(host_key).get("/api/v1/coins/balance?member_number=K-1").json()
    assert balance["lots"][0]["issuer"] == partner.slug
    assert balance["lots"][0]["remaining"] == 300
    history = client_for(partner_key).get(
        f"/api/v1/coins/history?member={_as_partner(hanako, partner)['member']}"
    )
    assert history.status_code == 200
    kinds = [(row["kind"], row["coins"], row["reference"]) for row in history.json()["results"]]
    assert kinds == [("redeem", -200, ""), ("earn_purchase", 500, "MF-2")]


def test_a_refund_takes_back_what_the_member_still_has(
    partner: Partner, partner_key: Key, hanako: MemberAccount
) -> None:
    body = {**_as_partner(hanako, partner), "amount_yen": "2000", "order_id": "MF-3"}
    _post(partner_key, "purchases", body)
    response = _post(partner_key, "refunds", {"order_id": "MF-3", "refund_yen": "1000"})
    assert response.status_code == 201, response.content
    assert response.json() == {"requested": 100, "recovered": 100, "shortfall": 0}
    unknown = _post(partner_key, "refunds", {"order_id": "MF-404"})
    assert unknown.status_code == 404


def test_a_refused_redemption_is_refused_the_same_way_when_retried(
    host: Partner, host_key: Key, hanako: MemberAccount
) -> None:
    spend = {"member_number": "K-1", "coins": 5, "reference": "TILL-2"}
    first = _post(host_key, "redemptions", spend, idempotency="spend-1")
    assert first.status_code == 409
    assert first.json()["error"]["code"] == "insufficient_coins"
    # Coins arrive meanwhile; the retry under the same key still answers the refusal.
    services.coins_earn_for_purchase(
        company=host,
        member=hanako,
        amount_yen=Decimal(10000),
        order_id="K-ORDER",
        actor=SYSTEM,
    )
    again = _post(host_key, "redemptions", spend, idempotency="spend-1")
    assert again.status_code == 409
    assert again["Idempotent-Replayed"] == "true"
    assert not CoinTransaction.objects.filter(kind="redeem").exists()


def test_consent_and_the_agreement_are_checked_at_every_posting(
    partner: Partner, partner_key: Key, hanako: MemberAccount, agreed: Agreement
) -> None:
    consent_withdraw(
        member=hanako,
        purpose_code="coin_exchange",
        recipient=partner,
        channel="call_centre",
        occurred_at=timezone.now(),
        actor=SYSTEM,
    )
    body = {**_as_partner(hanako, partner), "amount_yen": "2000", "order_id": "MF-4"}
    refused = _post(partner_key, "purchases", body)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "consent_required"
    grant_consent(hanako, partner, "coin_exchange")
    services.agreement_suspend(agreement=agreed, reason="audit", actor=SYSTEM)
    refused = _post(partner_key, "purchases", body)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "no_agreement"
    assert not CoinLot.objects.exists()


@pytest.mark.parametrize("coins", [-1, 0, 1.5, "1e3", "NaN", "10", True, 2**63, None, [], {"n": 1}])
def test_bad_coin_amounts_are_refused_and_nothing_is_written(
    host_key: Key, hanako: MemberAccount, coins: Any
) -> None:
    response = _post(
        host_key, "redemptions", {"member_number": "K-1", "coins": coins, "reference": "r"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert "coins" in response.json()["error"]["fields"]
    assert not CoinTransaction.objects.exists()


@pytest.mark.parametrize(
    "yen", ["-1", "0", "0100", "12.5", "1e3", "NaN", 1000, 12.5, "", "\uff11\uff10\uff10\uff10"]
)
def test_bad_yen_amounts_are_refused(partner_key: Key, partner: Partner, yen: Any) -> None:
    make_member(partner, "BC-1")
    body = {"member_number": "BC-1", "amount_yen": yen, "order_id": "X"}
    response = _post(partner_key, "purchases", body)
    assert response.status_code == 400
    assert "amount_yen" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "named",
    [
        {},
        {"member_number": "K-1", "member": "mp_x"},
    ],
)
def test_the_member_is_named_exactly_once(host_key: Key, hanako: MemberAccount, named: Any) -> None:
    response = _post(host_key, "redemptions", {**named, "coins": 1, "reference": "r"})
    assert response.status_code == 400
    assert "member" in response.json()["error"]["fields"]


def test_another_companys_member_or_pseudonym_answers_like_a_missing_one(
    host: Partner, partner: Partner, outsider: Partner, outsider_key: Key, hanako: MemberAccount
) -> None:
    answers = [
        _post(outsider_key, "redemptions", {"member_number": "K-1", "coins": 1, "reference": "r"}),
        _post(
            outsider_key,
            "redemptions",
            {**_as_partner(hanako, partner), "coins": 1, "reference": "r"},
        ),
        _post(outsider_key, "redemptions", {"member_number": "NOPE", "coins": 1, "reference": "r"}),
    ]
    assert {a.status_code for a in answers} == {404}
    assert len({a.content for a in answers}) == 1


def test_a_write_without_an_idempotency_key_is_refused(
    host_key: Key, hanako: MemberAccount
) -> None:
    response = _post(
        host_key,
        "redemptions",
        {"member_number": "K-1", "coins": 1, "reference": "r"},
        idempotency=None,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_required"


def test_a_checkout_holds_coins_captures_part_and_the_rest_comes_back(
    host: Partner, host_key: Key, outsider_key: Key, hanako: MemberAccount
) -> None:
    services.coins_earn_for_purchase(
        company=host, member=hanako, amount_yen=Decimal(50000), order_id="K-9", actor=SYSTEM
    )
    held = _post(host_key, "holds", {"member_number": "K-1", "coins": 300, "reference": "CART"})
    assert held.status_code == 201, held.content
    hold_id = held.json()["hold_id"]
    balance = client_for(host_key).get("/api/v1/coins/balance?member_number=K-1").json()
    assert balance["balances"] == {"available": 200, "pending": 0, "held": 300}

    assert _post(outsider_key, f"holds/{hold_id}/capture", {}).status_code == 404
    captured = _post(host_key, f"holds/{hold_id}/capture", {"coins": 120})
    assert captured.status_code == 200, captured.content
    assert (captured.json()["state"], captured.json()["captured"]) == ("captured", 120)
    balance = client_for(host_key).get("/api/v1/coins/balance?member_number=K-1").json()
    assert balance["balances"] == {"available": 380, "pending": 0, "held": 0}
    again = _post(host_key, f"holds/{hold_id}/void", {})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "hold_resolved"


def test_a_redemption_is_reversed_once_and_the_liability_adds_up(
    host: Partner, host_key: Key, hanako: MemberAccount
) -> None:
    services.coins_earn_for_purchase(
        company=host, member=hanako, amount_yen=Decimal(10000), order_id="K-8", actor=SYSTEM
    )
    spent = _post(host_key, "redemptions", {"member_number": "K-1", "coins": 40, "reference": "T"})
    transaction_id = spent.json()["transaction_id"]
    liability = client_for(host_key).get("/api/v1/coins/liability").json()
    assert liability == {"issued": 100, "unspent": 60, "redeemed": 40, "expired": 0}

    reversed_ = _post(host_key, f"transactions/{transaction_id}/reverse", {})
    assert reversed_.status_code == 201, reversed_.content
    assert reversed_.json()["reverses"] == transaction_id
    again = _post(host_key, f"transactions/{transaction_id}/reverse", {})
    assert again.json()["error"]["code"] == "already_reversed"
    liability = client_for(host_key).get("/api/v1/coins/liability").json()
    assert liability == {"issued": 100, "unspent": 100, "redeemed": 0, "expired": 0}


def test_members_whose_coins_expire_soon_are_listed_for_reminders(
    host: Partner, host_key: Key, hanako: MemberAccount
) -> None:
    services.coins_earn_for_purchase(
        company=host, member=hanako, amount_yen=Decimal(5000), order_id="K-7", actor=SYSTEM
    )
    soon = timezone.now() + timedelta(days=10)
    CoinLot.objects.update(expires_at=soon)
    make_member(host, "K-2")  # no coins: not listed

    listed = client_for(host_key).get("/api/v1/coins/expiring?days=14").json()["results"]
    assert [(row["member_number"], row["coins"]) for row in listed] == [("K-1", 50)]
    assert client_for(host_key).get("/api/v1/coins/expiring?days=7").json()["results"] == []
    refused = client_for(host_key).get("/api/v1/coins/expiring?days=8")
    assert refused.status_code == 400
    assert "days" in refused.json()["error"]["fields"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_retry_racing_its_original_posts_once_and_never_answers_500() -> None:
    from django.apps import apps

    from tests.factories import issue_key, make_partner

    # A transactional test starts from flushed tables: the purpose catalogue goes back first.
    importlib.import_module("consent.migrations.0002_seed_purposes").seed(apps, None)
    host = make_partner("host-co", kind=Partner.Kind.HOST)
    partner = make_partner("brand-co")
    make_notice(purposes=["coin_exchange"], recipients=[partner], data_items=["name"])
    make_agreement(host, partner, terms=coin_terms(host, partner, coins_per_100_yen="1"))
    make_member(host, "K-1")
    key = Key(host, issue_key(host).plaintext)
    body = {"member_number": "K-1", "amount_yen": "3000", "order_id": "RACE-1"}
    start = threading.Barrier(6)

    def send(_: int) -> int:
        try:
            start.wait(timeout=30)
            return int(_post(key, "purchases", body, idempotency="race-1").status_code)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(send, range(6)))
    assert 500 not in statuses
    assert set(statuses) <= {201, 409}
    assert 201 in statuses
    assert CoinTransaction.objects.filter(kind="earn_purchase").count() == 1
