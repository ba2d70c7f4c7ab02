"""The OpenAPI schema describes what the API does: pages, errors, input limits and headers.

Schemathesis (``make fuzz``) holds the running server to this schema; these tests hold the
schema to the conventions, so a new endpoint cannot quietly leave them out.
"""

from functools import cache
from typing import Any

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from partners.api.base import StrictInputSerializer

LISTS_ONCE_BARE = [
    "/api/v1/api-keys",
    "/api/v1/partners",
    "/api/v1/consent/withdrawals",
    "/api/v1/data-requests",
    "/api/v1/webhook-endpoints",
    "/api/v1/webhook-event-types",
]
CURSOR_PAGED = [
    "/api/v1/api-keys",
    "/api/v1/partners",
    "/api/v1/consent/withdrawals",
    "/api/v1/data-requests",
    "/api/v1/webhook-endpoints",
    "/api/v1/webhook-endpoints/{endpoint_id}/deliveries",
    "/api/v1/members",
    "/api/v1/agreements",
    "/api/v1/enrollments",
]


@cache
def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method.upper(), operation)
        for path, item in _schema()["paths"].items()
        for method, operation in item.items()
    ]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    return _schema()["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def _ok_schema(operation: dict[str, Any]) -> dict[str, Any]:
    return _resolve(operation["responses"]["200"]["content"]["application/json"]["schema"])


@pytest.mark.parametrize("path", LISTS_ONCE_BARE)
def test_every_list_is_described_as_the_object_it_answers(path: str) -> None:
    page = _ok_schema(_schema()["paths"][path]["get"])

    assert page["type"] == "object"
    assert page["properties"]["results"]["type"] == "array"
    assert _schema()["paths"][path]["get"]["operationId"].endswith("_list")


@pytest.mark.parametrize("path", CURSOR_PAGED)
def test_a_cursor_page_has_its_links_and_a_bounded_limit(path: str) -> None:
    operation = _schema()["paths"][path]["get"]
    page = _ok_schema(operation)
    parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}

    assert set(page["properties"]) == {"next", "previous", "results"}
    assert parameters["limit"]["schema"]["minimum"] == 1
    assert parameters["limit"]["schema"]["maximum"] == settings.SANPO_API_MAX_PAGE_SIZE == 200
    assert parameters["cursor"]["schema"]["type"] == "string"


def test_every_operation_documents_its_errors_in_the_one_error_shape() -> None:
    error = _schema()["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]

    for path, method, operation in _operations():
        errors = {status: r for status, r in operation["responses"].items() if status >= "400"}
        assert {"401", "403", "406", "429"} <= set(errors), (method, path)
        if "{" in path:
            assert "404" in errors, (method, path)
        if method in {"POST", "PUT", "PATCH"}:
            assert "413" in errors, (method, path)
        if "requestBody" in operation:
            assert {"400", "415"} <= set(errors), (method, path)
        for response in errors.values():
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (method, path)
            assert "`" in response["description"], (method, path)


def test_declared_codes_are_listed_under_their_status() -> None:
    enroll = _schema()["paths"]["/api/v1/enrollments"]["post"]["responses"]
    overlap = _schema()["paths"]["/api/v1/overlap"]["get"]["responses"]

    assert "`no_agreement`" in enroll["403"]["description"]
    assert "`consent_required`" in enroll["403"]["description"]
    assert "`conflict`" in enroll["409"]["description"]
    assert "`disclosure_refused`" in overlap["400"]["description"]
    assert "`rate_limited`" in overlap["429"]["description"]


def test_strict_input_serializers_refuse_other_properties() -> None:
    strict = {
        cls.__name__
        for cls in _subclasses(StrictInputSerializer)
        if cls.__name__ in _schema()["components"]["schemas"]
    }
    assert {"ApiKeyListInput", "ConsentCheckInput", "EnrollmentBulkInput"} <= strict
    for name in strict:
        assert _schema()["components"]["schemas"][name]["additionalProperties"] is False, name


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_lengths_and_counts_the_server_enforces_are_in_the_schema() -> None:
    components = _schema()["components"]["schemas"]
    check = components["ConsentCheckInput"]["properties"]
    bulk = components["EnrollmentBulkInput"]["properties"]

    assert check["members"]["minItems"] == 1
    assert check["members"]["items"]["minLength"] == 1
    assert bulk["fields"]["minItems"] == 1
    assert "at least one; absent means every allowed field" in bulk["fields"]["description"]


def test_every_post_takes_an_idempotency_key_and_money_requires_one() -> None:
    for path, method, operation in _operations():
        if method != "POST":
            continue
        headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
        assert "Idempotency-Key" in headers, path
        if path == "/api/v1/consent/check":
            assert "ignored" in headers["Idempotency-Key"]["description"]
            continue
        assert headers["Idempotency-Key"]["schema"]["maxLength"] == 255, path
        assert {"409", "422"} <= set(operation["responses"]), path


def test_channels_the_api_always_refuses_are_not_offered_as_input() -> None:
    components = _schema()["components"]["schemas"]
    for name in ("ConsentGrantInput", "ConsentWithdrawInput"):
        channel = _resolve(components[name]["properties"]["channel"]["allOf"][0])
        assert "preference_page" not in channel["enum"], name
        assert "data_subject_request" not in channel["enum"], name
        assert "partner_app" in channel["enum"], name


def test_the_schema_is_english_whatever_the_request_asks() -> None:
    """Model labels and choice names are translated for people; the API's documentation is
    not, even for a request (or a ``manage.py spectacular``) in Japanese."""
    english = APIClient(HTTP_ACCEPT_LANGUAGE="en").get("/api/schema/", {"format": "json"})
    japanese = APIClient(HTTP_ACCEPT_LANGUAGE="ja").get("/api/schema/", {"format": "json"})

    assert english.status_code == japanese.status_code == 200
    assert japanese.content == english.content
