"""The OpenAPI schema describes what the API does: pages, errors, input limits and headers.

Schemathesis (``make fuzz``) holds the running server to this schema; these tests hold the
schema to the conventions, so a new endpoint cannot quietly leave them out.
"""

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from django.conf import settings
from drf_spectacular.drainage import get_override
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers
from rest_framework.test import APIClient

from partners.api.base import PartnerEndpoint, StrictInputSerializer
from partners.errors import STATUS_BY_CODE

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


# --- what a reader of the docs gets ----------------------------------------------------------


def test_every_operation_has_a_summary_and_a_description_of_its_own() -> None:
    for path, method, operation in _operations():
        summary = operation.get("summary", "")
        own = operation.get("description", "").split("**Scope:**")[0].strip()
        assert 0 < len(summary) <= 60, (method, path)
        assert not summary.endswith("."), (method, path)
        assert len(own) >= 20, (method, path)


def test_every_operation_names_the_scope_it_needs() -> None:
    descriptions = {
        (path, method): operation["description"] for path, method, operation in _operations()
    }
    assert descriptions["/api/v1/me", "GET"].endswith("**Scope:** `read`.")
    assert descriptions["/api/v1/api-keys", "POST"].endswith("**Scope:** `admin`.")
    assert descriptions["/api/v1/members", "POST"].endswith("**Scope:** `write`.")
    assert descriptions["/api/v1/consent/check", "POST"].endswith("**Scope:** `read`.")
    assert all("**Scope:** `" in text for text in descriptions.values())


def test_every_request_body_has_an_example_that_fits_its_schema() -> None:
    for path, method, operation in _operations():
        if "requestBody" not in operation:
            continue
        content = operation["requestBody"]["content"]["application/json"]
        examples = content.get("examples", {})
        assert examples, (method, path)
        properties = _resolve(content["schema"]).get("properties", {})
        for name, example in examples.items():
            assert set(example["value"]) <= set(properties), (method, path, name)


def test_every_error_response_has_an_example_of_each_code_it_lists() -> None:
    for path, method, operation in _operations():
        errors = {status: r for status, r in operation["responses"].items() if status >= "400"}
        assert any(status.startswith("4") for status in errors), (method, path)
        for status, response in errors.items():
            listed = re.findall(r"`([a-z_]+)`", response["description"])
            examples = response["content"]["application/json"]["examples"]
            assert sorted(examples) == sorted(listed), (method, path, status)
            for code, reference in examples.items():
                example = _schema()["components"]["examples"][reference["$ref"].rsplit("/")[-1]]
                assert example["value"]["error"]["code"] == code
                assert example["value"]["error"]["message"], (method, path, code)
                assert STATUS_BY_CODE[code] == int(status), (method, path, code)


def test_no_docstring_reaches_the_schema() -> None:
    """Docstrings are written for Sanpo's developers (``Subclasses declare required_scopes…``);
    a reader gets what an operation or a serializer declares for them."""
    leaked = []
    texts = list(_descriptions(_schema()))
    for owner, doc in _docstrings():
        head = " ".join(doc.split())[:50]
        if any(head in " ".join(text.split()) for text in texts):
            leaked.append(owner)
    assert leaked == [], sorted(leaked)


def _descriptions(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"description", "summary"} and isinstance(value, str):
                yield value
            else:
                yield from _descriptions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _descriptions(item)


def _docstrings() -> Iterator[tuple[str, str]]:
    """The docstrings of every endpoint, its handlers and every serializer of the apps, but
    those a serializer declares as its description on purpose (``extend_schema_serializer``)."""
    classes = {PartnerEndpoint, *_subclasses(PartnerEndpoint), *_subclasses(serializers.Serializer)}
    for cls in classes:
        if not cls.__module__.startswith(("partners.", "consent.", "federation.")):
            continue
        if get_override(cls, "description") is None and cls.__doc__:
            yield cls.__qualname__, cls.__doc__
        for name, member in vars(cls).items():
            if callable(member) and member.__doc__ and not name.startswith("__"):
                yield f"{cls.__qualname__}.{name}", member.__doc__


def test_the_docstrings_the_check_reads_include_the_ones_that_used_to_leak() -> None:
    owners = dict(_docstrings())
    assert "PartnerEndpoint" in owners
    assert "PageOutput" in owners
    assert "ConsentCheckApi" in owners
