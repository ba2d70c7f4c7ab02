"""The partner API answers its error messages in the language Accept-Language asks for, and
nothing else changes with it: the same bad request gets the same code, status and field names
in Japanese and in English (README, "Languages")."""

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import RequestFactory
from django.utils import translation
from rest_framework.test import APIClient

from partners.api.errors import json_handler500
from tests.conftest import Key

pytestmark = pytest.mark.django_db

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

Send = Callable[[APIClient], Any]

MEMBER = {"member_number": "M-0001", "kind": "household", "name": "山田 花子"}

# One bad request per kind of message: the error shape's own, each layer's (parser,
# authentication, pagination, filters, access, services, the URL guard) and Django's.
BAD_REQUESTS: dict[str, Send] = {
    "a member field": lambda c: c.post(
        "/api/v1/members", {**MEMBER, "email": "not-an-address"}, format="json"
    ),
    "a repeated member in a bulk write": lambda c: c.post(
        "/api/v1/members/bulk", {"members": [MEMBER, MEMBER]}, format="json"
    ),
    "a missing member": lambda c: c.get("/api/v1/members/M-4040"),
    "a missing API key": lambda c: c.get(f"/api/v1/api-keys/{uuid.uuid4()}"),
    "a missing webhook endpoint": lambda c: c.get(f"/api/v1/webhook-endpoints/{uuid.uuid4()}"),
    "an unknown field": lambda c: c.post(
        "/api/v1/api-keys", {"name": "x", "scopes": ["read"], "partner": "kirari"}, format="json"
    ),
    "an expiry in the past": lambda c: c.post(
        "/api/v1/api-keys",
        {"name": "x", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00+09:00"},
        format="json",
    ),
    "a body that is not JSON": lambda c: c.post(
        "/api/v1/api-keys", data="{", content_type="application/json"
    ),
    "a page size out of range": lambda c: c.get("/api/v1/api-keys", {"limit": "0"}),
    "a cursor that is not one": lambda c: c.get("/api/v1/api-keys", {"cursor": "not-a-cursor"}),
    "an empty filter": lambda c: c.get("/api/v1/members", {"kind": ""}),
    "a method not allowed": lambda c: c.delete("/api/v1/me"),
    "a page that does not exist": lambda c: c.get("/api/v1/no-such-page"),
    "an internal webhook URL": lambda c: c.post(
        "/api/v1/webhook-endpoints",
        {"url": "https://10.0.0.1/hook", "events": ["api_key.revoked"]},
        format="json",
    ),
    "an Idempotency-Key too long": lambda c: c.post(
        "/api/v1/api-keys",
        {"name": "x", "scopes": ["read"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k" * 256,
    ),
}


def _client(key: Key | None, language: str) -> APIClient:
    client = APIClient()
    credentials = {"HTTP_ACCEPT_LANGUAGE": language}
    if key is not None:
        credentials["HTTP_AUTHORIZATION"] = f"Bearer {key.plaintext}"
    client.credentials(**credentials)
    return client


def _messages(error: dict[str, Any]) -> list[str]:
    """The error's message and every message under its fields, in order."""
    found = [error["message"]]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            found.append(str(value))

    walk(error.get("fields", {}))
    return found


def assert_same_error_in_both_languages(english: Any, japanese: Any) -> None:
    assert english.status_code == japanese.status_code >= 400
    assert english["Content-Language"] == "en"
    assert japanese["Content-Language"] == "ja"
    en, ja = english.json()["error"], japanese.json()["error"]
    assert ja["code"] == en["code"]
    assert ja.keys() == en.keys()
    assert _field_names(ja) == _field_names(en)
    assert JAPANESE.search(ja["message"]), ja["message"]
    assert not JAPANESE.search(en["message"]), en["message"]
    assert ja["message"] != en["message"]
    for en_text, ja_text in zip(_messages(en)[1:], _messages(ja)[1:], strict=True):
        assert JAPANESE.search(ja_text), ja_text
        assert not JAPANESE.search(en_text), en_text


def _field_names(error: dict[str, Any]) -> Any:
    def names(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: names(item) for key, item in value.items()}
        if isinstance(value, list):
            return len(value)
        return None

    return names(error.get("fields", {}))


@pytest.mark.parametrize("request_name", list(BAD_REQUESTS))
def test_the_same_bad_request_answers_in_each_language(partner_key: Key, request_name: str) -> None:
    send = BAD_REQUESTS[request_name]

    english = send(_client(partner_key, "en"))
    japanese = send(_client(partner_key, "ja"))

    assert_same_error_in_both_languages(english, japanese)


def test_a_request_without_a_language_is_answered_in_english(partner_key: Key) -> None:
    response = BAD_REQUESTS["a missing member"](_client(partner_key, ""))

    assert response.status_code == 404
    assert response["Content-Language"] == "en"
    assert response.json()["error"]["message"] == "No such member."


@pytest.mark.parametrize(
    "authorization",
    [None, "Token sanpo_abc", "Bearer sanpo_AbCdEfGhIj_notakey"],
    ids=["no key", "another scheme", "not a key"],
)
def test_authentication_errors_answer_in_each_language(authorization: str | None) -> None:
    def send(language: str) -> Any:
        client = _client(None, language)
        if authorization is not None:
            client.credentials(HTTP_ACCEPT_LANGUAGE=language, HTTP_AUTHORIZATION=authorization)
        return client.get("/api/v1/me")

    assert_same_error_in_both_languages(send("en"), send("ja"))


def test_a_missing_scope_answers_in_each_language(partner_read_key: Key) -> None:
    def send(language: str) -> Any:
        return _client(partner_read_key, language).post("/api/v1/members", MEMBER, format="json")

    assert_same_error_in_both_languages(send("en"), send("ja"))


def test_the_rate_limit_answers_in_each_language(partner_key: Key, settings: Any) -> None:
    settings.SANPO_API_RATE_LIMIT_PER_MINUTE = 1
    _client(partner_key, "en").get("/api/v1/me")

    english = _client(partner_key, "en").get("/api/v1/me")
    japanese = _client(partner_key, "ja").get("/api/v1/me")

    assert_same_error_in_both_languages(english, japanese)
    assert english.json()["error"]["code"] == "rate_limited"


def test_a_body_too_large_answers_in_each_language(partner_key: Key, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048

    def send(language: str) -> Any:
        body = {"name": "x", "scopes": ["read"], "padding": "x" * 4096}
        return _client(partner_key, language).post("/api/v1/api-keys", body, format="json")

    assert_same_error_in_both_languages(send("en"), send("ja"))


def test_the_answer_to_a_server_error_is_in_the_request_language() -> None:
    request = RequestFactory().get("/api/v1/me")
    with translation.override("en"):
        english = json_handler500(request)
    with translation.override("ja"):
        japanese = json_handler500(request)

    assert json.loads(english.content)["error"]["code"] == "internal_error"
    assert json.loads(japanese.content)["error"]["code"] == "internal_error"
    assert json.loads(english.content)["error"]["message"] == "Something went wrong on our side."
    assert JAPANESE.search(japanese.content.decode())  # UTF-8, as DRF writes it
