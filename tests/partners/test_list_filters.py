"""List filters say no to what they cannot use: an empty value, a misspelt boolean or a value
outside the choices is a 400 naming the parameter, never an unfiltered list; the schema
documents the same parameters."""

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.conftest import Key
from tests.partners.test_bad_input import assert_error, guarded

FILTERS = [
    ("/api/v1/consent/withdrawals", "pending"),
    ("/api/v1/data-requests", "status"),
    ("/api/v1/members", "kind"),
    ("/api/v1/members", "status"),
    ("/api/v1/members", "updated_since"),
    ("/api/v1/agreements", "status"),
    ("/api/v1/enrollments", "status"),
    ("/api/v1/enrollments", "role"),
    ("/api/v1/enrollments", "batch"),
]


@pytest.mark.parametrize(("path", "name"), FILTERS)
def test_an_empty_filter_value_is_refused(host_key: Key, path: str, name: str) -> None:
    response = guarded(host_key).get(f"{path}?{name}=")

    error = assert_error(response, 400, "validation_failed")
    assert error["fields"] == {name: ["Give a value, or leave the parameter out."]}


@pytest.mark.parametrize(
    ("path", "name", "value"),
    [
        ("/api/v1/consent/withdrawals", "pending", "True"),
        ("/api/v1/consent/withdrawals", "pending", "yes"),
        ("/api/v1/consent/withdrawals", "pending", "banana"),
        ("/api/v1/consent/withdrawals", "pending", "1"),
        ("/api/v1/data-requests", "status", "lost"),
        ("/api/v1/members", "kind", "robot"),
        ("/api/v1/members", "updated_since", "yesterday"),
        # Times that leave the calendar once moved to UTC.
        ("/api/v1/members", "updated_since", "0001-01-01T00:00:00+09:00"),
        ("/api/v1/members", "updated_since", "9999-12-31T23:59:59-09:00"),
        ("/api/v1/agreements", "status", "happy"),
        ("/api/v1/enrollments", "role", "stranger"),
        ("/api/v1/enrollments", "batch", "not-a-uuid"),
    ],
)
def test_a_value_a_filter_cannot_take_is_refused(
    host_key: Key, path: str, name: str, value: str
) -> None:
    response = guarded(host_key).get(path, {name: value})

    error = assert_error(response, 400, "validation_failed")
    assert list(error["fields"]) == [name]


def test_updated_since_takes_any_offset_the_calendar_holds(host_key: Key) -> None:
    # "+16:43" is an offset PostgreSQL cannot store: the fuzzer's 500, before times were moved
    # to UTC before the query.
    values = ("2026-11-01T09:00:00+09:00", "2026-11-01T00:00:00Z", "0120-03-13T08:56:49+16:43")
    for value in (*values, "2026-11-01T09:00:00"):
        response = guarded(host_key).get("/api/v1/members", {"updated_since": value})
        assert response.status_code == 200, response.content


def test_pending_takes_true_and_false(host_key: Key) -> None:
    client = guarded(host_key)
    for value in ("true", "false"):
        response = client.get("/api/v1/consent/withdrawals", {"pending": value})
        assert response.status_code == 200, response.content


def test_an_accepted_filter_is_carried_into_the_next_link(host_key: Key) -> None:
    for number in ("M1", "M2"):
        body = {"member_number": number, "kind": "household", "name": "山田"}
        assert guarded(host_key).post("/api/v1/members", body, format="json").status_code == 201

    page = guarded(host_key).get("/api/v1/members", {"kind": "household", "limit": "1"}).json()

    assert "kind=household" in page["next"]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.parametrize(("path", "name"), FILTERS)
def test_the_schema_documents_each_filter(schema: dict[str, Any], path: str, name: str) -> None:
    (parameter,) = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name]

    assert parameter["in"] == "query"
    assert parameter.get("required", False) is False
    assert parameter.get("allowEmptyValue", False) is False
    if name == "pending":
        assert parameter["schema"]["type"] == "boolean"
    if name in {"kind", "role"} or (name == "status"):
        assert parameter["schema"]["enum"]
