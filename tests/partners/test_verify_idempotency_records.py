"""manage.py verify_idempotency_records: passes on the records the API writes, and names each
planted damaged record by its id."""

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from partners.models import IdempotencyKey, Partner
from partners.services import idempotency_claim, idempotency_complete
from tests.conftest import Key, client_for


def _verify() -> str:
    out = io.StringIO()
    call_command("verify_idempotency_records", stdout=out)
    return out.getvalue()


@pytest.fixture
def records(partner_key: Key, partner: Partner) -> dict[str, IdempotencyKey]:
    """A record of each kind the writers leave: a success, a 204, one still in progress."""
    issued = client_for(partner_key).post(
        "/api/v1/api-keys",
        {"name": "billing sync", "scopes": ["read"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="order-42",
    )
    assert issued.status_code == 201
    no_content = idempotency_claim(
        partner=partner, key="confirm-7", method="POST", path="/api/v1/x", body=b"{}"
    )
    idempotency_complete(record=no_content, status=204, body=None)
    running = idempotency_claim(
        partner=partner, key="k~!", method="POST", path="/api/v1/y", body=b"{}"
    )
    return {
        "success": IdempotencyKey.objects.get(key="order-42"),
        "no_content": no_content,
        "running": running,
    }


def test_the_records_the_api_writes_verify(records: dict[str, IdempotencyKey]) -> None:
    assert "3 idempotency record(s) checked, 0 invariant(s) broken." in _verify()


LONG_AGO = timezone.now() - timedelta(hours=27)
DAMAGE: dict[str, tuple[str, dict[str, Any]]] = {
    "unknown state": ("success", {"state": "done"}),
    "not a POST": ("success", {"method": "PUT"}),
    "key not of the accepted form": ("success", {"key": "has space"}),
    "path not absolute": ("running", {"path": "api/v1/y"}),
    "request digest missing or not SHA-256 hex": ("running", {"request_digest": ""}),
    "completed without a response status": ("success", {"response_status": None}),
    "completed with a status never stored (5xx, 429 or not HTTP)": (
        "success",
        {"response_status": 500},
    ),
    "completed without a response body": ("success", {"response_body": None}),
    "completed without a completion time": ("success", {"completed_at": None}),
    "completed before it was created": ("success", {"completed_at": LONG_AGO}),
    "in progress with a stored response": ("running", {"response_status": 201}),
    "created in the future": ("running", {"created_at": timezone.now() + timedelta(hours=1)}),
    "outlived its TTL (the purge is not running)": ("running", {"created_at": LONG_AGO}),
}


@pytest.mark.parametrize("problem", DAMAGE)
def test_each_damaged_record_fails_the_check_by_its_id(
    records: dict[str, IdempotencyKey], problem: str
) -> None:
    which, change = DAMAGE[problem]
    damaged = records[which]
    IdempotencyKey.objects.filter(pk=damaged.pk).update(**change)
    out = io.StringIO()

    with pytest.raises(CommandError, match=rf"^Broken idempotency records: ids {damaged.pk}\.$"):
        call_command("verify_idempotency_records", stdout=out)

    assert f"{problem}: 1 record(s), ids {damaged.pk}\n" in out.getvalue()
    assert "3 idempotency record(s) checked, 1 invariant(s) broken." in out.getvalue()


def test_a_status_of_204_is_the_only_answer_kept_without_a_body(
    records: dict[str, IdempotencyKey],
) -> None:
    IdempotencyKey.objects.filter(pk=records["no_content"].pk).update(response_status=200)
    with pytest.raises(CommandError):
        _verify()
