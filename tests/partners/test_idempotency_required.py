from typing import Any

import pytest

from partners.models import AuditEvent
from tests.conftest import Key, client_for

pytestmark = pytest.mark.urls("tests.partners.money_urls")


def _transfers() -> int:
    return AuditEvent.objects.filter(actor_label="t").count()


def test_an_endpoint_that_moves_money_refuses_a_request_without_a_key(partner_key: Key) -> None:
    response = client_for(partner_key).post("/api/v1/transfers", {}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_required"
    assert _transfers() == 0


def test_an_endpoint_that_moves_money_runs_once_per_key(partner_key: Key, db: Any) -> None:
    client = client_for(partner_key)
    first = client.post("/api/v1/transfers", {}, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    again = client.post("/api/v1/transfers", {}, format="json", HTTP_IDEMPOTENCY_KEY="t-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert _transfers() == 1


def test_a_refused_money_request_is_refused_the_same_way_when_retried(
    partner_key: Key, db: Any
) -> None:
    from tests.partners.money_urls import RefusedOnceTransferApi

    RefusedOnceTransferApi.calls = 0
    client = client_for(partner_key)
    first = client.post("/api/v1/refused-transfers", {}, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    again = client.post("/api/v1/refused-transfers", {}, format="json", HTTP_IDEMPOTENCY_KEY="r-1")

    assert first.status_code == again.status_code == 409
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert RefusedOnceTransferApi.calls == 1  # the retry never reached the handler
    assert _transfers() == 0  # and the refusal wrote nothing
    # A new key is a new request, which may succeed.
    other = client.post("/api/v1/refused-transfers", {}, format="json", HTTP_IDEMPOTENCY_KEY="r-2")
    assert other.status_code == 201
