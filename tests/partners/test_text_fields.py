"""A number, boolean, object or array where the API expects text is refused with a 400 naming
the field, never turned into a string (``"name": 123`` stored as ``"123"``)."""

from typing import Any

import pytest

from tests.conftest import Key
from tests.partners.test_bad_input import assert_error, guarded

SCALARS = [123, 1.5, True, {"a": "b"}, ["x"]]


@pytest.mark.parametrize("value", SCALARS, ids=["int", "float", "bool", "object", "array"])
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/members", {"member_number": "M1", "kind": "household"}, "name"),
        ("/api/v1/members", {"name": "山田", "kind": "household"}, "member_number"),
        ("/api/v1/members", {"member_number": "M1", "kind": "household", "name": "x"}, "email"),
        ("/api/v1/api-keys", {"scopes": ["read"]}, "name"),
        ("/api/v1/webhook-endpoints", {"events": ["webhook.ping"]}, "description"),
        ("/api/v1/consent/check", {"members": ["M1"]}, "purpose"),
    ],
)
def test_a_non_string_for_a_text_field_is_refused(
    host_key: Key, path: str, body: dict[str, Any], field: str, value: Any
) -> None:
    if field == "description":
        body = dict(body, url="https://hooks.example.com/sanpo")
    response = guarded(host_key).post(path, {**body, field: value}, format="json")

    error = assert_error(response, 400, "validation_failed")
    assert field in error["fields"], error


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/consent/check", {"purpose": "enrollment", "members": ["M1", 7]}, "members"),
        ("/api/v1/enrollments/bulk", {"target": "x", "member_numbers": [7]}, "member_numbers"),
        (
            "/api/v1/enrollments",
            {"target": "x", "member_number": "M1", "fields": ["name", 5]},
            "fields",
        ),
    ],
)
def test_a_number_in_a_list_of_text_is_refused_by_its_position(
    host_key: Key, path: str, body: dict[str, Any], field: str
) -> None:
    response = guarded(host_key).post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="n-1")

    error = assert_error(response, 400, "validation_failed")
    position = str(body[field].index(next(v for v in body[field] if not isinstance(v, str))))
    assert error["fields"][field] == {position: ["Not a valid string."]}


def test_null_stays_the_way_to_leave_an_optional_text_out(host_key: Key) -> None:
    body = {"member_number": "M1", "kind": "household", "name": "山田 花子", "email": None}
    response = guarded(host_key).post("/api/v1/members", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["member_number"] == "M1"
