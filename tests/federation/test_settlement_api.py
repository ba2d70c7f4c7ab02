"""The settlement endpoints: a company reads only its own figures and statement (another's,
like a draft or a missing one, is a 404), downloads it as CSV, and disputes its lines with an
Idempotency-Key; bad input is a clear 4xx with nothing written."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from federation.settlement.models import (
    SettlementAcknowledgement,
    SettlementDispute,
    SettlementLine,
    SettlementPeriod,
)
from federation.settlement.services import (
    period_issue,
    period_lock,
    period_review_open,
    settlement_line_post,
)
from partners.models import WebhookDelivery
from partners.services import webhook_endpoint_create
from tests.conftest import Key, client_for
from tests.factories import issue_key, make_partner
from tests.federation.settlement_world import (
    SYSTEM,
    Alliance,
    make_alliance,
    may_ledger,
    tokyo,
)

pytestmark = pytest.mark.django_db
MAY = (date(2026, 5, 1), date(2026, 5, 31))


@pytest.fixture
def alliance(db: Any) -> Alliance:
    return make_alliance()


@pytest.fixture
def may(alliance: Alliance) -> SettlementPeriod:
    may_ledger(alliance)
    period = alliance.period(*MAY)
    return period_review_open(period, actor=SYSTEM, now=tokyo(date(2026, 6, 1), 0))


@pytest.fixture
def b_key(alliance: Alliance) -> Key:
    return Key(alliance.b, issue_key(alliance.b).plaintext)


def _get(key: Key, path: str) -> Any:
    return client_for(key).get(f"/api/v1/settlement/{path}")


def _dispute(key: Key, line: Any, body: Any, idempotency: str | None = "auto") -> Any:
    headers: dict[str, Any] = {}
    if idempotency is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = (
            str(uuid.uuid4()) if idempotency == "auto" else idempotency
        )
    path = f"/api/v1/settlement/lines/{line}/disputes"
    return client_for(key).post(path, body, format="json", **headers)


def test_a_company_reads_its_own_figures_only(
    alliance: Alliance, may: SettlementPeriod, b_key: Key
) -> None:
    listed = _get(b_key, "periods")
    assert listed.status_code == 200
    [row] = listed.json()["results"]
    assert (row["id"], row["net_yen"], row["status"]) == (str(may.pk), "850", "provisional")

    detail = _get(b_key, f"periods/{may.pk}").json()
    assert detail["totals"] == {"receivable_yen": "1000", "payable_yen": "150", "net_yen": "850"}
    assert {(line["debtor"], line["creditor"]) for line in detail["lines"]} == {
        ("st-a", "st-b"),
        ("st-b", "st-a"),
    }  # nothing of A's dealings with the host, nor A's shortfall
    assert "st-host" not in json.dumps(detail["lines"])


def test_a_draft_or_a_period_without_the_caller_is_a_404(alliance: Alliance, b_key: Key) -> None:
    draft = alliance.period(*MAY)
    assert _get(b_key, f"periods/{draft.pk}").status_code == 404
    assert _get(b_key, "periods").json()["results"] == []
    outsider = make_alliance_outsider()
    may_ledger(alliance)
    period_review_open(draft, actor=SYSTEM, now=tokyo(date(2026, 6, 1), 0))
    for path in (f"periods/{draft.pk}", f"periods/{draft.pk}/statement"):
        assert _get(outsider, path).status_code == 404
        assert _get(b_key, path).status_code == 200


def make_alliance_outsider() -> Key:
    outsider = make_partner("st-outsider")
    return Key(outsider, issue_key(outsider).plaintext)


def test_the_statement_is_served_with_its_hash_and_as_csv(
    may: SettlementPeriod, b_key: Key
) -> None:
    body = _get(b_key, f"periods/{may.pk}/statement").json()
    assert hashlib.sha256(body["document"].encode()).hexdigest() == body["sha256"]
    assert json.loads(body["document"])["company"] == "st-b"

    response = _get(b_key, f"periods/{may.pk}/statement.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["number", "kind", "debtor"]
    assert [row[7] for row in rows[1:3]] == ["1000", "150"]
    assert ["net_yen", "850"] in rows
    assert ["sha256", body["sha256"]] in rows


def test_a_party_disputes_a_line_once_with_a_key(
    alliance: Alliance, may: SettlementPeriod, b_key: Key
) -> None:
    line = may.lines.get(kind="redemption", debtor=alliance.a, creditor=alliance.b)

    assert _dispute(b_key, line.pk, {"reason": "short"}, idempotency=None).status_code == 400
    raised = _dispute(b_key, line.pk, {"reason": "Ten yen short"}, idempotency="d-1")
    assert raised.status_code == 201, raised.content
    assert raised.json()["state"] == "open"
    replay = _dispute(b_key, line.pk, {"reason": "Ten yen short"}, idempotency="d-1")
    assert replay.json() == raised.json()
    again = _dispute(b_key, line.pk, {"reason": "Still short"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_disputed")
    assert SettlementDispute.objects.count() == 1
    assert _get(b_key, "periods").json()["results"][0]["status"] == "disputed"


@pytest.mark.parametrize(
    "body",
    [{}, {"reason": ""}, {"reason": "   "}, {"reason": 12}, {"reason": "x" * 2001}, {"why": "x"}],
)
def test_a_bad_dispute_is_a_400_and_writes_nothing(
    alliance: Alliance, may: SettlementPeriod, b_key: Key, body: Any
) -> None:
    line = may.lines.get(kind="redemption", debtor=alliance.a, creditor=alliance.b)
    response = _dispute(b_key, line.pk, body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "validation_failed"
    assert SettlementDispute.objects.count() == 0


def test_a_dispute_on_another_companys_or_a_locked_line_is_refused(
    alliance: Alliance, may: SettlementPeriod, b_key: Key
) -> None:
    theirs = may.lines.get(kind="redemption", debtor=alliance.host, creditor=alliance.a)
    # "¹" is a digit int() refuses; U+0661 (Arabic-Indic one) is one int() reads as 1:
    # neither names a line.
    for line in (theirs.pk, 10**30, "x", -1, "¹", "\u0661"):
        assert _dispute(b_key, line, {"reason": "no"}).status_code == 404
    period_lock(may, actor=SYSTEM)
    mine = may.lines.get(kind=SettlementLine.Kind.REDEMPTION, debtor=alliance.b)
    locked = _dispute(b_key, mine.pk, {"reason": "late"})
    assert (locked.status_code, locked.json()["error"]["code"]) == (409, "period_state")
    assert SettlementDispute.objects.count() == 0


def test_listing_periods_takes_the_same_queries_for_one_or_three(
    alliance: Alliance, may: SettlementPeriod, b_key: Key, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(12) as one:
        assert len(_get(b_key, "periods").json()["results"]) == 1
    for month in (7, 8):
        period = alliance.period(date(2026, month, 1), date(2026, month, 28))
        settlement_line_post(
            host=alliance.host,
            on=date(2026, month, 2),
            kind=SettlementLine.Kind.FEE,
            debtor=alliance.b,
            creditor=alliance.a,
            amount_yen=Decimal(500),
            note="referral fee",
            actor=SYSTEM,
        )
        period_review_open(period, actor=SYSTEM, now=tokyo(date(2026, 9, 1), 0))
    with django_assert_max_num_queries(len(one.captured_queries)):
        results = _get(b_key, "periods").json()["results"]
    assert [row["net_yen"] for row in results] == ["-500", "-500", "850"]


def _acknowledge(key: Key, period: Any, body: Any) -> Any:
    path = f"/api/v1/settlement/periods/{period}/acknowledgement"
    return client_for(key).post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))


def test_a_company_acknowledges_its_issued_statement_once_and_the_host_hears(
    alliance: Alliance, may: SettlementPeriod, b_key: Key
) -> None:
    webhook_endpoint_create(
        partner=alliance.host,
        url="http://127.0.0.1:9/settle",
        events=["settlement.statement_acknowledged"],
        actor=SYSTEM,
    )
    sha = may.statements.get(partner=alliance.b).content_hash
    early = _acknowledge(b_key, may.pk, {"sha256": sha})
    assert (early.status_code, early.json()["error"]["code"]) == (409, "period_state")
    period_lock(may, actor=SYSTEM)
    period_issue(may, actor=SYSTEM)

    for bad in ({}, {"sha256": "0" * 64}, {"sha256": sha.upper()}, {"sha256": 5}):
        refused = _acknowledge(b_key, may.pk, bad)
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, "validation_failed")
    done = _acknowledge(b_key, may.pk, {"sha256": sha})
    assert done.status_code == 201, done.content
    again = _acknowledge(b_key, may.pk, {"sha256": sha})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_acknowledged")
    assert SettlementAcknowledgement.objects.count() == 1
    assert _get(b_key, "periods").json()["results"][0]["status"] == "acknowledged"
    assert WebhookDelivery.objects.filter(
        endpoint__partner=alliance.host, event_type="settlement.statement_acknowledged"
    ).exists()
    assert _acknowledge(make_alliance_outsider(), may.pk, {"sha256": sha}).status_code == 404
