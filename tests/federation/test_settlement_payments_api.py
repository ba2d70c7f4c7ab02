"""The host records a company's payment of its issued statement through the API (the console's
payment action, the same service): host only (a company of the period finds no such period),
with an Idempotency-Key; bad input is a clear 4xx with nothing written; the company reads its
payment in its figures."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from federation.settlement.models import SettlementPayment, SettlementPeriod
from federation.settlement.services import period_issue, period_lock, period_review_open
from tests.conftest import Key, client_for
from tests.factories import issue_key
from tests.federation.settlement_world import SYSTEM, Alliance, make_alliance, may_ledger, tokyo

pytestmark = pytest.mark.django_db


@pytest.fixture
def alliance(db: Any) -> Alliance:
    return make_alliance()


@pytest.fixture
def may(alliance: Alliance) -> SettlementPeriod:
    may_ledger(alliance)
    period = alliance.period(date(2026, 5, 1), date(2026, 5, 31))
    return period_review_open(period, actor=SYSTEM, now=tokyo(date(2026, 6, 1), 0))


def _key(partner: Any) -> Key:
    return Key(partner, issue_key(partner).plaintext)


def _pay(key: Key, period: Any, body: Any, idempotency: str | None = None) -> Any:
    path = f"/api/v1/settlement/periods/{period}/payments"
    headers: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": idempotency or str(uuid.uuid4())}
    return client_for(key).post(path, body, format="json", **headers)


def test_the_host_records_each_payment_and_the_period_becomes_paid(
    alliance: Alliance, may: SettlementPeriod
) -> None:
    host = _key(alliance.host)
    early = _pay(host, may.pk, {"company": alliance.a.slug, "reference": "BANK-1"})
    assert (early.status_code, early.json()["error"]["code"]) == (409, "period_state")
    period_lock(may, actor=SYSTEM)
    period_issue(may, actor=SYSTEM)
    owing = may.statements.exclude(net_yen=0).select_related("partner")
    assert owing.count() >= 2

    key = str(uuid.uuid4())
    first = owing[0]
    done = _pay(host, may.pk, {"company": first.partner.slug, "reference": "BANK-1"}, key)
    assert done.status_code == 201, done.content
    assert done.json()["amount_yen"] == str(abs(first.net_yen))
    assert done.json()["direction"] == ("to_company" if first.net_yen > 0 else "to_host")
    replay = _pay(host, may.pk, {"company": first.partner.slug, "reference": "BANK-1"}, key)
    assert replay.json() == done.json()
    again = _pay(host, may.pk, {"company": first.partner.slug, "reference": "BANK-2"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "period_state")
    assert SettlementPayment.objects.count() == 1

    for statement in owing[1:]:
        paid = _pay(host, may.pk, {"company": statement.partner.slug, "reference": "BANK-3"})
        assert paid.status_code == 201, paid.content
    assert paid.json()["period_state"] == "paid"
    figures = client_for(_key(first.partner)).get(f"/api/v1/settlement/periods/{may.pk}")
    assert figures.json()["payment"]["reference"] == "BANK-1"
    assert figures.json()["period"]["status"] == "paid"


def test_a_company_of_the_period_or_a_stranger_finds_no_such_period(
    alliance: Alliance, may: SettlementPeriod
) -> None:
    period_lock(may, actor=SYSTEM)
    period_issue(may, actor=SYSTEM)
    body = {"company": alliance.b.slug, "reference": "BANK-1"}
    for caller in (alliance.a, alliance.b):
        refused = _pay(_key(caller), may.pk, body)
        assert (refused.status_code, refused.json()["error"]["code"]) == (404, "not_found")
    assert _pay(_key(alliance.host), uuid.uuid4(), body).status_code == 404
    assert _pay(_key(alliance.host), "not-a-period", body).status_code == 404
    assert SettlementPayment.objects.count() == 0


def test_bad_input_is_a_4xx_and_writes_nothing(alliance: Alliance, may: SettlementPeriod) -> None:
    period_lock(may, actor=SYSTEM)
    period_issue(may, actor=SYSTEM)
    host = _key(alliance.host)
    for bad in (
        {},
        {"company": alliance.a.slug},
        {"company": alliance.a.slug, "reference": ""},
        {"company": alliance.a.slug, "reference": "   "},
        {"company": alliance.a.slug, "reference": "\u001d"},  # Python strips it as space
        {"company": alliance.a.slug, "reference": "BANK\n1"},
        {"company": alliance.a.slug, "reference": "x" * 101},
        {"company": "Not A Slug", "reference": "BANK-1"},
        {"company": alliance.a.slug, "reference": "BANK-1", "amount_yen": "5"},
        {"company": 5, "reference": "BANK-1"},
    ):
        refused = _pay(host, may.pk, bad)
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, "validation_failed")
    unknown = _pay(host, may.pk, {"company": "no-such-company", "reference": "BANK-1"})
    assert unknown.status_code == 404
    path = f"/api/v1/settlement/periods/{may.pk}/payments"
    no_key = client_for(host).post(path, {"company": alliance.a.slug, "reference": "B"})
    assert no_key.status_code == 400
    assert SettlementPayment.objects.count() == 0
