"""Bad input: every malformed request is a 4xx in the one error shape, never a 500, and
leaves the database as it was."""

import base64
import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from partners import services
from partners.actors import Actor
from partners.models import ApiKey, AuditEvent, IdempotencyKey, WebhookEndpoint, WebhookSecret
from tests.conftest import Key
from tests.factories import issue_key

HOOK_URL = "http://127.0.0.1:9/hook"


def _counts() -> dict[str, int]:
    return {
        "api_keys": ApiKey.objects.count(),
        "revoked": ApiKey.objects.filter(revoked_at__isnull=False).count(),
        "webhooks": WebhookEndpoint.objects.count(),
        "secrets": WebhookSecret.objects.count(),
        "audit": AuditEvent.objects.count(),
        "idempotency": IdempotencyKey.objects.count(),
    }


class GuardedClient(APIClient):
    """An API client that fails the test when a refused request (4xx, 5xx) changed the
    database: a refusal writes nothing, and a 5xx is never expected here at all."""

    def request(self, **kwargs: Any) -> Any:
        before = _counts()
        response = super().request(**kwargs)
        assert response.status_code < 500, response.content
        if response.status_code >= 400:
            assert _counts() == before, f"a {response.status_code} changed the database"
        return response


def guarded(key: Key | None) -> GuardedClient:
    client = GuardedClient()
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.plaintext}")
    return client


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str)
    assert error["message"]
    assert set(error) <= {"code", "message", "fields"}
    if "fields" in error:
        assert isinstance(error["fields"], dict)
        assert error["fields"]
    return error


@pytest.fixture
def client(partner_key: Key) -> GuardedClient:
    return guarded(partner_key)


@pytest.fixture
def endpoint(partner: Any) -> WebhookEndpoint:
    return services.webhook_endpoint_create(
        partner=partner, url=HOOK_URL, events=["api_key.issued"], actor=Actor.system()
    ).endpoint


# --- The body is not a JSON object --------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"name": "x",}', b"{'name': 'x'}", b"not json", b"\xff\xfe", b'{"name": NaN}'],
    ids=["truncated", "trailing-comma", "single-quotes", "text", "bad-utf8", "nan"],
)
def test_malformed_json_is_refused(client: GuardedClient, raw: bytes) -> None:
    response = client.post("/api/v1/api-keys", raw, content_type="application/json")
    assert_error(response, 400, "malformed_json")


def test_malformed_json_on_patch_is_refused(
    client: GuardedClient, endpoint: WebhookEndpoint
) -> None:
    response = client.patch(
        f"/api/v1/webhook-endpoints/{endpoint.pk}", b"{", content_type="application/json"
    )
    assert_error(response, 400, "malformed_json")


@pytest.mark.parametrize(
    "payload",
    [[], [{"name": "x", "scopes": ["read"]}], 42, "a string", True, None],
    ids=["empty-list", "list", "number", "string", "bool", "null"],
)
def test_a_body_that_is_not_an_object_is_refused(client: GuardedClient, payload: Any) -> None:
    response = client.post("/api/v1/api-keys", json.dumps(payload), content_type="application/json")
    assert_error(response, 400, "validation_failed")


@pytest.mark.parametrize("payload", [[1], 42, "x"], ids=["list", "number", "string"])
def test_a_non_object_body_is_refused_on_webhooks(
    client: GuardedClient, endpoint: WebhookEndpoint, payload: Any
) -> None:
    raw = json.dumps(payload)
    response = client.post("/api/v1/webhook-endpoints", raw, content_type="application/json")
    assert_error(response, 400, "validation_failed")
    response = client.patch(
        f"/api/v1/webhook-endpoints/{endpoint.pk}", raw, content_type="application/json"
    )
    assert_error(response, 400, "validation_failed")


@pytest.mark.parametrize(
    "raw",
    ["[1]", "[]", "0", "false", '""', "null", '"overlap_hours=0"'],
    ids=["list", "empty-list", "zero", "false", "empty-string", "null", "string"],
)
def test_a_non_object_body_is_refused_on_rotations(
    client: GuardedClient, partner: Any, endpoint: WebhookEndpoint, raw: str
) -> None:
    target = issue_key(partner, name="target").api_key
    response = client.post(
        f"/api/v1/api-keys/{target.pk}/rotate", raw, content_type="application/json"
    )
    assert_error(response, 400, "validation_failed")
    target.refresh_from_db()
    assert target.replaced_by_id is None
    response = client.post(
        f"/api/v1/webhook-endpoints/{endpoint.pk}/rotate-secret",
        raw,
        content_type="application/json",
    )
    assert_error(response, 400, "validation_failed")
    assert endpoint.secrets.count() == 1


def test_rotations_take_an_empty_body(
    client: GuardedClient, partner: Any, endpoint: WebhookEndpoint
) -> None:
    target = issue_key(partner, name="target").api_key
    assert client.post(f"/api/v1/api-keys/{target.pk}/rotate").status_code == 201
    assert client.post(f"/api/v1/webhook-endpoints/{endpoint.pk}/rotate-secret").status_code == 200
    other = issue_key(partner, name="other").api_key
    response = client.post(f"/api/v1/api-keys/{other.pk}/rotate", {}, format="json")
    assert response.status_code == 201


# --- Wrong types and values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"scopes": ["read"]}, "name"),
        ({"name": "x"}, "scopes"),
        ({"name": ["x"], "scopes": ["read"]}, "name"),
        ({"name": {"a": 1}, "scopes": ["read"]}, "name"),
        ({"name": None, "scopes": ["read"]}, "name"),
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"name": "x" * 101, "scopes": ["read"]}, "name"),
        ({"name": "x", "scopes": "read"}, "scopes"),
        ({"name": "x", "scopes": {"read": True}}, "scopes"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["superuser"]}, "scopes"),
        ({"name": "x", "scopes": ["READ"]}, "scopes"),
        ({"name": "x", "scopes": [1]}, "scopes"),
        ({"name": "x", "scopes": [["read"]]}, "scopes"),
        ({"name": "x", "scopes": ["read"] * 21}, "scopes"),
        ({"name": "x", "scopes": ["read"], "expires_at": "tomorrow"}, "expires_at"),
        ({"name": "x", "scopes": ["read"], "expires_at": 1_900_000_000}, "expires_at"),
        ({"name": "x", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ],
)
def test_invalid_api_key_fields_are_refused(
    client: GuardedClient, payload: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/api-keys", payload, format="json")
    error = assert_error(response, 400, "validation_failed")
    assert field in error["fields"]
    assert all(isinstance(message, str) for message in error["fields"][field])


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"events": ["api_key.issued"]}, "url", "validation_failed"),
        ({"url": "not a url", "events": ["api_key.issued"]}, "url", "validation_failed"),
        ({"url": HOOK_URL, "events": []}, "events", "validation_failed"),
        ({"url": HOOK_URL, "events": "api_key.issued"}, "events", "validation_failed"),
        ({"url": HOOK_URL, "events": ["no.such_event"]}, "events", "validation_failed"),
        (
            {"url": HOOK_URL, "events": ["api_key.issued"], "description": 5 * [1]},
            "description",
            "validation_failed",
        ),
        ({"url": HOOK_URL + "x" * 500, "events": ["api_key.issued"]}, "url", "validation_failed"),
        (
            {"url": "ftp://127.0.0.1/hook", "events": ["api_key.issued"]},
            "url",
            "webhook_url_refused",
        ),
        (
            {"url": "https://10.0.0.1/hook", "events": ["api_key.issued"]},
            "url",
            "webhook_url_refused",
        ),
        (
            {"url": "https://169.254.169.254/latest", "events": ["api_key.issued"]},
            "url",
            "webhook_url_refused",
        ),
        (
            {"url": "https://user:pw@127.0.0.1/hook", "events": ["api_key.issued"]},
            "url",
            "webhook_url_refused",
        ),
    ],
)
def test_invalid_webhook_fields_are_refused(
    client: GuardedClient, payload: dict[str, Any], field: str, code: str
) -> None:
    response = client.post("/api/v1/webhook-endpoints", payload, format="json")
    error = assert_error(response, 400, code)
    assert field in error["fields"]


@pytest.mark.parametrize(
    "payload",
    [
        {"is_active": "maybe"},
        {"events": []},
        {"events": ["nope"]},
        {"url": "not a url"},
        {"url": "https://192.168.0.1/hook"},
        {"description": "x" * 201},
    ],
)
def test_invalid_webhook_updates_are_refused(
    client: GuardedClient, endpoint: WebhookEndpoint, payload: dict[str, Any]
) -> None:
    before = WebhookEndpoint.objects.filter(pk=endpoint.pk).values().get()
    response = client.patch(f"/api/v1/webhook-endpoints/{endpoint.pk}", payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"validation_failed", "webhook_url_refused"}
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).values().get() == before


@pytest.mark.parametrize(
    "payload",
    [{"overlap_hours": -1}, {"overlap_hours": 24 * 30 + 1}, {"overlap_hours": "soon"}],
)
def test_invalid_rotation_parameters_are_refused(
    client: GuardedClient, partner: Any, endpoint: WebhookEndpoint, payload: dict[str, Any]
) -> None:
    target = issue_key(partner, name="target").api_key
    response = client.post(f"/api/v1/api-keys/{target.pk}/rotate", payload, format="json")
    assert "overlap_hours" in assert_error(response, 400, "validation_failed")["fields"]
    response = client.post(
        f"/api/v1/webhook-endpoints/{endpoint.pk}/rotate-secret", payload, format="json"
    )
    assert "overlap_hours" in assert_error(response, 400, "validation_failed")["fields"]


def test_rotating_into_a_past_expiry_is_refused(client: GuardedClient, partner: Any) -> None:
    target = issue_key(partner, name="target").api_key
    response = client.post(
        f"/api/v1/api-keys/{target.pk}/rotate",
        {"expires_at": "2001-01-01T00:00:00Z"},
        format="json",
    )
    assert "expires_at" in assert_error(response, 400, "validation_failed")["fields"]
    target.refresh_from_db()
    assert target.replaced_by_id is None
    assert target.expires_at is None


# --- Fields a caller may not set --------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        "partner",
        "partner_id",
        "status",
        "id",
        "lookup",
        "digest",
        "revoked_at",
        "last_used_at",
        "replaced_by",
        "created_by_key",
        "key",
        "prefix",
    ],
)
def test_privileged_api_key_fields_are_refused_not_ignored(
    client: GuardedClient, outsider: Any, field: str
) -> None:
    payload = {"name": "x", "scopes": ["read"], field: str(outsider.pk)}
    response = client.post("/api/v1/api-keys", payload, format="json")
    error = assert_error(response, 400, "validation_failed")
    assert list(error["fields"]) == [field]


@pytest.mark.parametrize(
    "field", ["partner", "id", "secret", "secrets", "created_at", "status", "deliveries"]
)
def test_privileged_webhook_fields_are_refused_not_ignored(
    client: GuardedClient, endpoint: WebhookEndpoint, outsider: Any, field: str
) -> None:
    payload = {"url": HOOK_URL, "events": ["api_key.issued"], field: str(outsider.pk)}
    response = client.post("/api/v1/webhook-endpoints", payload, format="json")
    assert list(assert_error(response, 400, "validation_failed")["fields"]) == [field]
    response = client.patch(
        f"/api/v1/webhook-endpoints/{endpoint.pk}", {field: str(outsider.pk)}, format="json"
    )
    assert list(assert_error(response, 400, "validation_failed")["fields"]) == [field]
    endpoint.refresh_from_db()
    assert endpoint.partner_id != outsider.pk


def test_unknown_fields_on_rotate_are_refused(client: GuardedClient, partner: Any) -> None:
    target = issue_key(partner, name="target").api_key
    response = client.post(
        f"/api/v1/api-keys/{target.pk}/rotate", {"scopes": ["admin"]}, format="json"
    )
    assert list(assert_error(response, 400, "validation_failed")["fields"]) == ["scopes"]


# --- Transport: size, media type, method --------------------------------------------------------


@pytest.mark.parametrize("idempotency_key", [None, "big-1"])
def test_an_oversized_body_is_refused(
    client: GuardedClient, settings: Any, idempotency_key: str | None
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    payload = {"name": "x", "scopes": ["read"], "padding": "x" * 4096}
    headers: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    response = client.post("/api/v1/api-keys", payload, format="json", **headers)
    assert_error(response, 413, "payload_too_large")


def test_an_oversized_patch_is_refused(
    client: GuardedClient, endpoint: WebhookEndpoint, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    response = client.patch(
        f"/api/v1/webhook-endpoints/{endpoint.pk}", {"description": "x" * 4096}, format="json"
    )
    assert_error(response, 413, "payload_too_large")


def test_a_body_just_under_the_limit_is_accepted(client: GuardedClient, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    response = client.post(
        "/api/v1/api-keys", {"name": "x" * 100, "scopes": ["read"]}, format="json"
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("application/x-www-form-urlencoded", b"name=x&scopes=read"),
        ("text/plain", b'{"name": "x", "scopes": ["read"]}'),
        ("application/xml", b"<key><name>x</name></key>"),
        ("multipart/form-data; boundary=xyz", b"--xyz--"),
    ],
)
def test_a_body_that_is_not_json_is_refused(
    client: GuardedClient, content_type: str, raw: bytes
) -> None:
    response = client.post("/api/v1/api-keys", raw, content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")


def test_an_unsupported_charset_is_refused(client: GuardedClient) -> None:
    response = client.post(
        "/api/v1/api-keys",
        b'{"name": "x", "scopes": ["read"]}',
        content_type="application/json; charset=bz2_codec",
    )
    assert response.status_code in {400, 415}
    assert response.json()["error"]["code"] in {"malformed_json", "unsupported_media_type"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", "/api/v1/api-keys"),
        ("delete", "/api/v1/api-keys"),
        ("patch", "/api/v1/me"),
        ("post", "/api/v1/me"),
        ("post", "/api/v1/partners"),
        ("delete", "/api/v1/webhook-event-types"),
    ],
)
def test_a_method_an_endpoint_does_not_offer_is_405(
    client: GuardedClient, method: str, path: str
) -> None:
    response = getattr(client, method)(path, {}, format="json")
    assert_error(response, 405, "method_not_allowed")


def test_an_html_only_client_is_told_406(client: GuardedClient) -> None:
    response = client.get("/api/v1/me", HTTP_ACCEPT="text/html")
    assert_error(response, 406, "not_acceptable")


# --- Ids in the URL ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_id",
    ["not-a-uuid", "1", "00000000-0000-0000-0000-000000000000", "%00", "a" * 300, "'; --"],
)
def test_an_invalid_id_is_a_404(client: GuardedClient, bad_id: str) -> None:
    for method, path in [
        ("get", f"/api/v1/partners/{bad_id}"),
        ("get", f"/api/v1/api-keys/{bad_id}"),
        ("post", f"/api/v1/api-keys/{bad_id}/revoke"),
        ("post", f"/api/v1/api-keys/{bad_id}/rotate"),
        ("get", f"/api/v1/webhook-endpoints/{bad_id}"),
        ("patch", f"/api/v1/webhook-endpoints/{bad_id}"),
        ("delete", f"/api/v1/webhook-endpoints/{bad_id}"),
        ("post", f"/api/v1/webhook-endpoints/{bad_id}/rotate-secret"),
        ("post", f"/api/v1/webhook-endpoints/{bad_id}/ping"),
        ("get", f"/api/v1/webhook-endpoints/{bad_id}/deliveries"),
    ]:
        response = getattr(client, method)(path, {}, format="json")
        assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/no-such-thing",
        "/api/v1/",
        "/api/v2/me",
        "/api/",
        "/api/v1/api-keys/x/y/z",
    ],
)
def test_an_unknown_api_url_is_a_json_404(db: Any, path: str) -> None:
    response = guarded(None).get(path)
    assert_error(response, 404, "not_found")


# --- Pagination -------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "abc", "10000", "-1", "1.5", "", " 5", "201"])
def test_an_invalid_page_size_is_refused(client: GuardedClient, limit: str) -> None:
    for path in ("/api/v1/api-keys", "/api/v1/partners", "/api/v1/webhook-endpoints"):
        response = client.get(path, {"limit": limit})
        assert "limit" in assert_error(response, 400, "validation_failed")["fields"]


def test_a_page_size_within_range_pages_through_everything(
    client: GuardedClient, partner: Any, settings: Any
) -> None:
    for number in range(4):
        issue_key(partner, name=f"key {number}")
    expected = set(map(str, ApiKey.objects.filter(partner=partner).values_list("pk", flat=True)))
    assert len(expected) == 5

    seen: list[str] = []
    response = client.get("/api/v1/api-keys", {"limit": "2"})
    pages = 0
    while True:
        assert response.status_code == 200
        body = response.json()
        assert len(body["results"]) <= 2
        seen.extend(item["id"] for item in body["results"])
        pages += 1
        if body["next"] is None:
            break
        response = client.get(body["next"])
    assert pages == 3
    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(set(seen))

    maximum = settings.SANPO_API_MAX_PAGE_SIZE
    assert client.get("/api/v1/api-keys", {"limit": str(maximum)}).status_code == 200
    assert client.get("/api/v1/api-keys", {"limit": "1"}).status_code == 200


def _cursor(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "YQ",
        _cursor("r=maybe"),
        _cursor("o=-1"),
        _cursor("o=abc"),
        _cursor("r=1&p=not-a-date"),
        _cursor("p=2020-13-45T99:99:99"),
    ],
)
def test_a_bad_cursor_is_refused(client: GuardedClient, cursor: str) -> None:
    response = client.get("/api/v1/api-keys", {"cursor": cursor})
    assert assert_error(response, 400, "invalid_request")["message"] == "The cursor is not valid."


def test_a_cursor_of_another_list_does_not_leak(
    client: GuardedClient, outsider_key: Key, partner: Any
) -> None:
    for number in range(3):
        issue_key(partner, name=f"key {number}")
    next_url = client.get("/api/v1/api-keys", {"limit": "1"}).json()["next"]
    assert next_url is not None
    response = guarded(outsider_key).get(next_url)
    if response.status_code == 200:
        ids = {item["id"] for item in response.json()["results"]}
        partner_ids = set(
            map(str, ApiKey.objects.filter(partner=partner).values_list("pk", flat=True))
        )
        assert not ids & partner_ids
    else:
        assert response.status_code == 400


@pytest.mark.parametrize(
    "position",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "2020-01-01T00:00:00+99:00",
        "2020-01-01",
        "",
        "\x00",
    ],
)
def test_a_cursor_position_out_of_range_is_refused_not_a_500(
    client: GuardedClient, position: str
) -> None:
    from urllib.parse import urlencode

    cursor = _cursor(urlencode({"r": "1", "p": position}))
    response = client.get("/api/v1/api-keys", {"cursor": cursor})
    assert_error(response, 400, "invalid_request")
