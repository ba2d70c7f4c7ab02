"""Deeply nested JSON is refused with a 400 in the error shape at any depth, never the
parser's RecursionError (a 500): in API bodies, in JSONL member files and in the admin's terms
field."""

import json
from typing import Any

import pytest

from partners import jsondepth
from partners.models import WebhookEndpoint
from tests.conftest import Key
from tests.partners.test_bad_input import assert_error, endpoint, guarded

__all__ = ["endpoint"]  # the fixture, shared with the other bad-input tests

WRITES = [
    ("post", "/api/v1/members"),
    ("post", "/api/v1/members/bulk"),
    ("post", "/api/v1/consent/check"),
    ("post", "/api/v1/enrollments"),
    ("post", "/api/v1/enrollments/bulk"),
    ("post", "/api/v1/api-keys"),
    ("post", "/api/v1/webhook-endpoints"),
    ("patch", "/api/v1/webhook-endpoints/{endpoint}"),
]


def nested(depth: int, inner: str = "") -> str:
    return "[" * depth + inner + "]" * depth


@pytest.mark.parametrize("depth", [33, 950, 5_000, 100_000])
@pytest.mark.parametrize(("method", "path"), WRITES)
def test_a_deeply_nested_body_is_a_400(
    partner_key: Key, endpoint: WebhookEndpoint, method: str, path: str, depth: int
) -> None:
    client = guarded(partner_key)
    path = path.format(endpoint=endpoint.pk)
    body = '{"name": ' + nested(depth) + "}"
    response = getattr(client, method)(
        path, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=f"deep-{depth}"
    )
    error = assert_error(response, 400, "invalid_request")
    assert "32 levels" in error["message"]


def test_nesting_up_to_the_bound_reaches_validation(partner_key: Key) -> None:
    body = '{"name": ' + nested(jsondepth.MAX_DEPTH - 1) + "}"
    response = guarded(partner_key).post(
        "/api/v1/api-keys", data=body, content_type="application/json"
    )
    assert_error(response, 400, "validation_failed")


@pytest.mark.parametrize("depth", [jsondepth.MAX_DEPTH + 1, 950, 100_000])
def test_loads_refuses_deep_values_as_a_value_error(depth: int) -> None:
    for text in (nested(depth), '{"a":' * depth + "1" + "}" * depth):
        with pytest.raises(jsondepth.JSONTooDeepError):
            jsondepth.loads(text)
        with pytest.raises(ValueError, match="32 levels"):
            jsondepth.loads(text)


def test_loads_accepts_the_bound_and_passes_options_through() -> None:
    assert jsondepth.loads(nested(jsondepth.MAX_DEPTH)) == json.loads(nested(jsondepth.MAX_DEPTH))
    with pytest.raises(ValueError, match="NaN"):
        jsondepth.loads("[NaN]", parse_constant=_refuse)


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")
