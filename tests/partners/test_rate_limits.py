"""Rate limits: a fixed one-minute window per API key, counted in the shared Django cache."""

from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import cache

from partners.api import throttling
from partners.models import ApiKey
from tests.conftest import Key, client_for
from tests.factories import issue_key

LIMIT = 3
WINDOW_START = 1_800_000_000.0  # a minute boundary: 1_800_000_000 % 60 == 0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, settings: Any) -> SimpleNamespace:
    """The throttle's clock, frozen 10 s into a window so a test never straddles two."""
    settings.SANPO_API_RATE_LIMIT_PER_MINUTE = LIMIT
    frozen = SimpleNamespace(now=WINDOW_START + 10)
    monkeypatch.setattr(throttling, "time", SimpleNamespace(time=lambda: frozen.now))
    return frozen


def _assert_rate_headers(response: Any, remaining: int) -> None:
    assert response["X-RateLimit-Limit"] == str(LIMIT)
    assert response["X-RateLimit-Remaining"] == str(remaining)
    assert 1 <= int(response["X-RateLimit-Reset"]) <= 61


def test_the_request_over_the_limit_is_refused_with_429(
    partner_key: Key, clock: SimpleNamespace
) -> None:
    client = client_for(partner_key)
    for number in range(1, LIMIT + 1):
        response = client.get("/api/v1/me")
        assert response.status_code == 200
        _assert_rate_headers(response, LIMIT - number)

    refused = client.get("/api/v1/me")

    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["message"]
    assert refused["Retry-After"] == "51"  # the window ends 50 s later; rounded up
    _assert_rate_headers(refused, 0)
    assert refused["X-RateLimit-Reset"] == "51"


def test_every_endpoint_counts_against_the_same_limit(
    partner_key: Key, clock: SimpleNamespace
) -> None:
    client = client_for(partner_key)
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/api-keys").status_code == 200
    assert client.get("/api/v1/webhook-event-types").status_code == 200
    refused = client.post("/api/v1/api-keys", {"name": "x", "scopes": ["read"]}, format="json")
    assert refused.status_code == 429
    assert not ApiKey.objects.filter(name="x").exists()


def test_a_refused_request_is_counted_too(partner_key: Key, clock: SimpleNamespace) -> None:
    client = client_for(partner_key)
    for _ in range(LIMIT + 2):
        client.get("/api/v1/me")
    window = int(clock.now // 60)
    assert cache.get(f"ratelimit:{partner_key.api_key.pk}:{window}") == LIMIT + 2
    assert client.get("/api/v1/me").status_code == 429


def test_the_limit_resets_with_the_next_window(partner_key: Key, clock: SimpleNamespace) -> None:
    client = client_for(partner_key)
    for _ in range(LIMIT):
        assert client.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/me").status_code == 429

    clock.now = WINDOW_START + 60  # the next minute
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    _assert_rate_headers(response, LIMIT - 1)


def test_limits_are_per_key(
    partner_key: Key,
    partner_read_key: Key,
    outsider_key: Key,
    clock: SimpleNamespace,
) -> None:
    client = client_for(partner_key)
    for _ in range(LIMIT):
        client.get("/api/v1/me")
    assert client.get("/api/v1/me").status_code == 429

    # Another key of the same partner, and a key of another partner, are unaffected.
    for other in (partner_read_key, outsider_key):
        response = client_for(other).get("/api/v1/me")
        assert response.status_code == 200
        _assert_rate_headers(response, LIMIT - 1)
    assert client.get("/api/v1/me").status_code == 429


def test_two_clients_with_the_same_key_share_the_count(
    partner_key: Key, clock: SimpleNamespace
) -> None:
    first, second = client_for(partner_key), client_for(partner_key)
    assert first.get("/api/v1/me").status_code == 200
    assert second.get("/api/v1/me").status_code == 200
    response = first.get("/api/v1/me")
    assert response.status_code == 200
    _assert_rate_headers(response, 0)
    assert second.get("/api/v1/me").status_code == 429
    assert first.get("/api/v1/me").status_code == 429


def test_the_count_lives_in_the_shared_cache(partner_key: Key, clock: SimpleNamespace) -> None:
    """Another worker sees the same cache: a count written there applies to this process."""
    window = int(clock.now // 60)
    cache.set(f"ratelimit:{partner_key.api_key.pk}:{window}", LIMIT, timeout=120)
    response = client_for(partner_key).get("/api/v1/me")
    assert response.status_code == 429
    assert cache.get(f"ratelimit:{partner_key.api_key.pk}:{window}") == LIMIT + 1


def test_the_limit_is_read_from_settings(
    partner_key: Key, clock: SimpleNamespace, settings: Any
) -> None:
    settings.SANPO_API_RATE_LIMIT_PER_MINUTE = 1
    client = client_for(partner_key)
    assert client.get("/api/v1/me")["X-RateLimit-Limit"] == "1"
    assert client.get("/api/v1/me").status_code == 429


def test_unauthenticated_and_refused_callers_carry_no_rate_headers(
    partner: Any, alliance_manager: Any, clock: SimpleNamespace
) -> None:
    response = client_for(None).get("/api/v1/me")
    assert response.status_code == 401
    assert "X-RateLimit-Limit" not in response


def test_a_rotated_successor_has_its_own_budget(partner_key: Key, clock: SimpleNamespace) -> None:
    client = client_for(partner_key)
    for _ in range(LIMIT - 1):
        client.get("/api/v1/me")
    rotated = client.post(f"/api/v1/api-keys/{partner_key.api_key.pk}/rotate", {}, format="json")
    assert rotated.status_code == 201
    assert client.get("/api/v1/me").status_code == 429
    successor = client_for(rotated.json()["key"])
    assert successor.get("/api/v1/me").status_code == 200


def test_keys_issued_later_start_with_a_fresh_budget(
    partner: Any, partner_key: Key, clock: SimpleNamespace
) -> None:
    for _ in range(LIMIT + 1):
        client_for(partner_key).get("/api/v1/me")
    fresh = issue_key(partner, name="fresh")
    assert client_for(fresh.plaintext).get("/api/v1/me").status_code == 200
