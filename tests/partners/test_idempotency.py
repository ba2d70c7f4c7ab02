"""Idempotency-Key: a retried POST runs once, and its first answer is replayed."""

import json
import threading
from typing import Any

import pytest
from django.db import connection

from partners import services
from partners.actors import Actor
from partners.models import ApiKey, AuditEvent, IdempotencyKey, Partner, WebhookEndpoint
from tests.conftest import Key, client_for

HOOK_URL = "http://127.0.0.1:9/hook"


def _post(key: Key, path: str, body: Any, idempotency_key: str | None) -> Any:
    headers: dict[str, Any] = (
        {} if idempotency_key is None else {"HTTP_IDEMPOTENCY_KEY": idempotency_key}
    )
    return client_for(key).post(path, body, format="json", **headers)


def _issue(key: Key, idempotency_key: str | None, **body: Any) -> Any:
    body = {"name": "billing sync", "scopes": ["read"], **body}
    return _post(key, "/api/v1/api-keys", body, idempotency_key)


def test_a_retried_post_replays_the_first_response(partner_key: Key) -> None:
    first = _issue(partner_key, "order-42")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    keys_after_first = ApiKey.objects.count()
    audits_after_first = AuditEvent.objects.count()

    again = _issue(partner_key, "order-42")

    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert {k: v for k, v in first.json().items() if k != "key"} == again.json()
    assert ApiKey.objects.count() == keys_after_first
    assert AuditEvent.objects.count() == audits_after_first
    assert IdempotencyKey.objects.filter(key="order-42").count() == 1


def test_a_retry_after_the_object_changed_replays_the_original_answer(partner_key: Key) -> None:
    first = _issue(partner_key, "k-1")
    services.api_key_revoke(api_key=ApiKey.objects.get(pk=first.json()["id"]), actor=Actor.system())
    again = _issue(partner_key, "k-1")
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["revoked_at"] is None  # the response as first sent


def test_without_a_key_each_post_runs(partner_key: Key) -> None:
    first = _issue(partner_key, None)
    second = _issue(partner_key, None)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert IdempotencyKey.objects.count() == 0


def test_the_same_key_with_a_different_body_is_refused(partner_key: Key) -> None:
    first = _issue(partner_key, "k-1")
    before = ApiKey.objects.count()

    response = _issue(partner_key, "k-1", name="another name")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert "Idempotent-Replayed" not in response
    assert ApiKey.objects.count() == before
    # The first answer is still the one replayed.
    assert _issue(partner_key, "k-1").json()["id"] == first.json()["id"]


def test_the_same_key_on_another_endpoint_is_refused(partner_key: Key) -> None:
    assert _issue(partner_key, "shared").status_code == 201
    before = WebhookEndpoint.objects.count()
    response = _post(
        partner_key,
        "/api/v1/webhook-endpoints",
        {"name": "billing sync", "scopes": ["read"]},
        "shared",
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert WebhookEndpoint.objects.count() == before


def test_keys_are_scoped_per_partner(partner_key: Key, outsider_key: Key) -> None:
    mine = _issue(partner_key, "nightly-1")
    theirs = _issue(outsider_key, "nightly-1")

    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert mine.json()["id"] != theirs.json()["id"]
    assert ApiKey.objects.get(pk=mine.json()["id"]).partner == partner_key.partner
    assert ApiKey.objects.get(pk=theirs.json()["id"]).partner == outsider_key.partner
    # Each partner's retry replays its own answer.
    assert _issue(partner_key, "nightly-1").json()["id"] == mine.json()["id"]
    assert _issue(outsider_key, "nightly-1").json()["id"] == theirs.json()["id"]
    # The same key with different bodies at two partners is no reuse.
    assert _issue(outsider_key, "nightly-2", name="x").status_code == 201
    assert _issue(partner_key, "nightly-2", name="y").status_code == 201


def test_two_keys_of_one_partner_share_its_idempotency_keys(
    partner_key: Key, partner: Partner
) -> None:
    from tests.factories import issue_key

    second = Key(partner, issue_key(partner, name="second").plaintext)
    first = _issue(partner_key, "k")
    again = _issue(second, "k")
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]


def test_a_refused_request_releases_its_key(partner_key: Key) -> None:
    before = ApiKey.objects.count()
    refused = _issue(partner_key, "retry-me", scopes=["superuser"])
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "validation_failed"
    assert not IdempotencyKey.objects.filter(key="retry-me").exists()
    assert ApiKey.objects.count() == before

    corrected = _issue(partner_key, "retry-me", scopes=["read"])
    assert corrected.status_code == 201
    assert "Idempotent-Replayed" not in corrected
    assert ApiKey.objects.count() == before + 1
    assert _issue(partner_key, "retry-me", scopes=["read"])["Idempotent-Replayed"] == "true"


def test_a_request_refused_by_a_service_releases_its_key(partner_key: Key) -> None:
    # Expiry in the past: the serializer accepts it, the service refuses it.
    refused = _issue(partner_key, "expiry", expires_at="2001-01-01T00:00:00Z")
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"].keys() == {"expires_at"}
    assert not IdempotencyKey.objects.filter(key="expiry").exists()
    assert _issue(partner_key, "expiry", expires_at=None).status_code == 201


def test_a_404_releases_its_key(partner_key: Key) -> None:
    path = "/api/v1/api-keys/00000000-0000-0000-0000-000000000000/revoke"
    assert _post(partner_key, path, {}, "r-1").status_code == 404
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize(
    "header",
    [
        "x" * 256,
        "",
        "has space",
        "tab\there",
        "bell\x07",
        "del\x7f",
        "日本語のキー",
    ],
    ids=["too-long", "empty", "space", "tab", "control", "del", "non-ascii"],
)
def test_an_invalid_key_header_is_refused(partner_key: Key, header: str) -> None:
    before = ApiKey.objects.count()
    response = _issue(partner_key, header)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_invalid"
    assert ApiKey.objects.count() == before
    assert not IdempotencyKey.objects.exists()


def test_the_longest_valid_key_is_accepted(partner_key: Key) -> None:
    key = "~" * 255
    assert _issue(partner_key, key).status_code == 201
    assert _issue(partner_key, key)["Idempotent-Replayed"] == "true"


def test_an_issued_key_secret_is_never_stored_for_replay(partner_key: Key) -> None:
    first = _issue(partner_key, "secret-check")
    plaintext = first.json()["key"]
    assert plaintext.startswith("sanpo_")

    record = IdempotencyKey.objects.get(key="secret-check")
    assert record.state == IdempotencyKey.State.COMPLETED
    assert record.response_body is not None
    assert "key" not in record.response_body
    assert plaintext not in json.dumps(record.response_body)
    assert plaintext.split("_")[2] not in json.dumps(record.response_body)

    again = _issue(partner_key, "secret-check")
    assert again["Idempotent-Replayed"] == "true"
    assert "key" not in again.json()
    assert plaintext not in again.content.decode()
    # The replay still names the key, so the client can find it (and revoke it if lost).
    assert again.json()["id"] == first.json()["id"]


def test_a_rotated_key_secret_is_never_stored_for_replay(partner_key: Key) -> None:
    target = _issue(partner_key, None).json()["id"]
    first = _post(partner_key, f"/api/v1/api-keys/{target}/rotate", {}, "rotate-1")
    assert first.status_code == 201
    plaintext = first.json()["key"]
    assert plaintext not in json.dumps(IdempotencyKey.objects.get().response_body)

    again = _post(partner_key, f"/api/v1/api-keys/{target}/rotate", {}, "rotate-1")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert "key" not in again.json()
    assert ApiKey.objects.filter(replaces__pk=target).count() == 1


def test_a_webhook_signing_secret_is_never_stored_for_replay(partner_key: Key) -> None:
    body = {"url": HOOK_URL, "events": ["api_key.issued"]}
    first = _post(partner_key, "/api/v1/webhook-endpoints", body, "hook-1")
    assert first.status_code == 201
    secret = first.json()["secret"]
    assert secret not in json.dumps(IdempotencyKey.objects.get(key="hook-1").response_body)

    again = _post(partner_key, "/api/v1/webhook-endpoints", body, "hook-1")
    assert again["Idempotent-Replayed"] == "true"
    assert "secret" not in again.json()
    assert WebhookEndpoint.objects.count() == 1

    rotate_path = f"/api/v1/webhook-endpoints/{first.json()['id']}/rotate-secret"
    rotated = _post(partner_key, rotate_path, {}, "hook-rotate-1")
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    stored = json.dumps(IdempotencyKey.objects.get(key="hook-rotate-1").response_body)
    assert new_secret not in stored
    replay = _post(partner_key, rotate_path, {}, "hook-rotate-1")
    assert replay["Idempotent-Replayed"] == "true"
    assert new_secret not in replay.content.decode()


def test_a_completed_key_does_not_replay_to_an_unauthenticated_caller(partner_key: Key) -> None:
    _issue(partner_key, "k")
    response = client_for(None).post(
        "/api/v1/api-keys",
        {"name": "billing sync", "scopes": ["read"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert response.status_code == 401
    assert "Idempotent-Replayed" not in response


def test_a_very_long_path_with_a_key_is_a_404_not_a_500(partner_key: Key) -> None:
    path = f"/api/v1/api-keys/{'a' * 600}/revoke"
    response = _post(partner_key, path, {}, "long-path")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not IdempotencyKey.objects.exists()


def test_purge_forgets_old_keys(partner_key: Key, settings: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    _issue(partner_key, "old")
    _issue(partner_key, "new")
    IdempotencyKey.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=settings.SANPO_IDEMPOTENCY_KEY_TTL_HOURS + 1)
    )
    assert services.idempotency_purge_expired() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    # A purged key runs again.
    assert "Idempotent-Replayed" not in _issue(partner_key, "old")


# --- Concurrent duplicates (PostgreSQL row locks) ---------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_duplicate_gets_409_and_a_later_retry_replays(
    partner_key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered = threading.Event()
    proceed = threading.Event()
    original = services.api_key_issue

    def held_issue(**kwargs: Any) -> Any:
        if kwargs["name"] == "concurrent":
            entered.set()
            assert proceed.wait(timeout=20), "the test never released the first request"
        return original(**kwargs)

    monkeypatch.setattr(services, "api_key_issue", held_issue)
    before = ApiKey.objects.count()
    results: dict[str, Any] = {}

    def first_request() -> None:
        try:
            results["first"] = _issue(partner_key, "race-1", name="concurrent")
        except BaseException as exc:  # surfaced by the main thread
            results["first_error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=first_request)
    thread.start()
    try:
        assert entered.wait(timeout=20), "the first request never reached the handler"

        def duplicate() -> None:
            try:
                results["duplicate"] = _issue(partner_key, "race-1", name="concurrent")
            except BaseException as exc:
                results["duplicate_error"] = exc
            finally:
                connection.close()

        second = threading.Thread(target=duplicate)
        second.start()
        second.join(timeout=20)
        assert not second.is_alive(), "the duplicate waited for the first instead of refusing"
    finally:
        proceed.set()
        thread.join(timeout=20)

    assert "duplicate_error" not in results, results.get("duplicate_error")
    assert "first_error" not in results, results.get("first_error")
    duplicate_response = results["duplicate"]
    assert duplicate_response.status_code == 409
    assert duplicate_response.json()["error"]["code"] == "idempotency_request_in_progress"
    first = results["first"]
    assert first.status_code == 201
    assert ApiKey.objects.count() == before + 1
    assert ApiKey.objects.filter(name="concurrent").count() == 1

    retry = _issue(partner_key, "race-1", name="concurrent")
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == first.json()["id"]
    assert ApiKey.objects.filter(name="concurrent").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_without_holding_create_one_key(partner_key: Key) -> None:
    """Eight identical requests at once: one key, every answer a 201 (first or replay) or a
    409 in progress, never a 500."""
    barrier = threading.Barrier(8)
    responses: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def request() -> None:
        try:
            barrier.wait(timeout=20)
            response = _issue(partner_key, "stampede", name="stampede")
            with lock:
                responses.append(response)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(responses) == 8
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    created = [r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r]
    assert len(created) == 1
    for response in responses:
        if response.status_code == 409:
            assert response.json()["error"]["code"] == "idempotency_request_in_progress"
        else:
            assert response.json()["id"] == created[0].json()["id"]
    assert ApiKey.objects.filter(name="stampede").count() == 1
