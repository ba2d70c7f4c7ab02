"""Who may call what in the partners API: its permission matrix (the machinery is shared,
``tests.permission_matrix``), and lists that show only the caller's own objects."""

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLResolver
from rest_framework.test import APIClient

from partners import services
from partners.actors import Actor
from partners.api import urls as partners_urls
from partners.models import ApiKey, Partner, WebhookDelivery, WebhookEndpoint
from tests.conftest import Key, client_for
from tests.factories import issue_key, make_partner
from tests.permission_matrix import (
    Endpoint,
    World,
    base_world,
    check_every_caller,
    check_indistinguishable,
    routes_covered,
    routes_of,
)

HOOK_URL = "http://127.0.0.1:9/hook"  # loopback is allowed in tests; nothing listens on 9
OTHER_HOOK_URL = "http://127.0.0.1:9/outsider-hook"
WEBHOOK_BODY = {"url": HOOK_URL + "2", "events": ["api_key.issued"]}
NEW_MEMBER = {"member_number": "BC-NEW-1", "kind": "household", "name": "新規 会員"}

ENDPOINTS = [
    Endpoint("me", "get", "/api/v1/me", "read", 200),
    Endpoint("partner-list", "get", "/api/v1/partners", "read", 200),
    Endpoint("partner-detail", "get", "/api/v1/partners/{partner_id}", "read", 200),
    Endpoint("api-key-list", "get", "/api/v1/api-keys", "admin", 200),
    Endpoint(
        "api-key-create",
        "post",
        "/api/v1/api-keys",
        "admin",
        201,
        {"name": "new", "scopes": ["read"]},
    ),
    Endpoint("api-key-detail", "get", "/api/v1/api-keys/{key_id}", "admin", 200),
    Endpoint("api-key-revoke", "post", "/api/v1/api-keys/{key_id}/revoke", "admin", 200),
    Endpoint("api-key-rotate", "post", "/api/v1/api-keys/{key_id}/rotate", "admin", 201, {}),
    Endpoint("webhook-list", "get", "/api/v1/webhook-endpoints", "admin", 200),
    Endpoint("webhook-create", "post", "/api/v1/webhook-endpoints", "admin", 201, WEBHOOK_BODY),
    Endpoint("webhook-detail", "get", "/api/v1/webhook-endpoints/{endpoint_id}", "admin", 200),
    Endpoint(
        "webhook-update",
        "patch",
        "/api/v1/webhook-endpoints/{endpoint_id}",
        "admin",
        200,
        {"description": "changed by the caller"},
    ),
    Endpoint("webhook-delete", "delete", "/api/v1/webhook-endpoints/{endpoint_id}", "admin", 204),
    Endpoint(
        "webhook-rotate-secret",
        "post",
        "/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret",
        "admin",
        200,
        {},
    ),
    Endpoint("webhook-ping", "post", "/api/v1/webhook-endpoints/{endpoint_id}/ping", "admin", 202),
    Endpoint(
        "webhook-deliveries",
        "get",
        "/api/v1/webhook-endpoints/{endpoint_id}/deliveries",
        "admin",
        200,
    ),
    Endpoint("webhook-event-types", "get", "/api/v1/webhook-event-types", "read", 200),
    Endpoint("member-list", "get", "/api/v1/members", "read", 200),
    Endpoint("member-create", "post", "/api/v1/members", "write", 201, NEW_MEMBER),
    Endpoint(
        "member-bulk", "post", "/api/v1/members/bulk", "write", 200, {"members": [NEW_MEMBER]}
    ),
    Endpoint("member-detail", "get", "/api/v1/members/{member_number}", "read", 200),
    Endpoint(
        "member-update",
        "patch",
        "/api/v1/members/{member_number}",
        "write",
        200,
        {"name_kana": "カエタ"},
    ),
    Endpoint(
        "member-deactivate", "post", "/api/v1/members/{member_number}/deactivate", "write", 200
    ),
]


@dataclass
class PartnersWorld(World):
    target_key: ApiKey  # a key of the partner that the calls revoke, rotate or read
    endpoint: WebhookEndpoint
    outsider_endpoint: WebhookEndpoint
    delivery: WebhookDelivery


@pytest.fixture
def world(
    host: Partner,
    partner: Partner,
    outsider: Partner,
    partner_key: Key,
    partner_read_key: Key,
    outsider_key: Key,
) -> PartnersWorld:
    base = base_world(host, partner, outsider, partner_key, partner_read_key, outsider_key)
    target = issue_key(partner, name="integration key").api_key
    endpoint = services.webhook_endpoint_create(
        partner=partner,
        url=HOOK_URL,
        events=["api_key.issued"],
        description="brand-co order feed",
        actor=Actor.system(),
    ).endpoint
    outsider_endpoint = services.webhook_endpoint_create(
        partner=outsider, url=OTHER_HOOK_URL, events=["api_key.issued"], actor=Actor.system()
    ).endpoint
    (delivery,) = services.webhook_emit(
        partner=partner, event_type="webhook.ping", data={}, only=endpoint
    )
    base.ids |= {"key_id": str(target.pk), "endpoint_id": str(endpoint.pk)}
    base.secrets += [
        str(target.pk),
        target.lookup,
        target.name,
        str(endpoint.pk),
        endpoint.url,
        endpoint.description,
        str(delivery.pk),
    ]
    return PartnersWorld(
        **vars(base),
        target_key=target,
        endpoint=endpoint,
        outsider_endpoint=outsider_endpoint,
        delivery=delivery,
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_permission_matrix(world: PartnersWorld, endpoint: Endpoint) -> None:
    check_every_caller(world, endpoint)


OBJECT_ENDPOINTS = [e for e in ENDPOINTS if e.addresses_object]


@pytest.mark.parametrize("endpoint", OBJECT_ENDPOINTS, ids=[e.name for e in OBJECT_ENDPOINTS])
def test_another_partners_object_is_indistinguishable_from_a_missing_one(
    world: PartnersWorld, endpoint: Endpoint
) -> None:
    check_indistinguishable(world, endpoint)


def test_the_matrix_covers_every_route_and_method() -> None:
    assert routes_of(partners_urls) == routes_covered(ENDPOINTS)


def test_every_app_under_the_api_root_has_its_matrix() -> None:
    """Each module included under /api/v1/ has a matrix of its own, in its app's tests."""
    from config.urls import urlpatterns

    included = {
        getattr(p.urlconf_name, "__name__", None)
        for p in urlpatterns
        if isinstance(p, URLResolver) and str(p.pattern) == "api/v1/"
    }
    assert included == {"partners.api.urls", "consent.urls", "federation.urls"}


# --- Lists return only the caller's own objects ------------------------------------------------


def _ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


def test_partner_list_shows_only_the_caller(world: PartnersWorld, host: Partner) -> None:
    assert _ids(client_for(world.outsider_key).get("/api/v1/partners")) == {str(world.outsider.pk)}
    assert _ids(client_for(world.owner_key).get("/api/v1/partners")) == {str(world.partner.pk)}


def test_api_key_list_shows_only_the_callers_keys(world: PartnersWorld) -> None:
    partner_keys = {
        str(pk) for pk in ApiKey.objects.filter(partner=world.partner).values_list("pk", flat=True)
    }
    outsider_keys = {
        str(pk) for pk in ApiKey.objects.filter(partner=world.outsider).values_list("pk", flat=True)
    }
    assert len(partner_keys) == 3  # owner, read-only and target keys
    assert _ids(client_for(world.owner_key).get("/api/v1/api-keys")) == partner_keys
    response = client_for(world.outsider_key).get("/api/v1/api-keys")
    assert _ids(response) == outsider_keys
    for secret in world.secrets:
        assert secret not in response.content.decode()


def test_webhook_list_shows_only_the_callers_endpoints(world: PartnersWorld) -> None:
    assert _ids(client_for(world.owner_key).get("/api/v1/webhook-endpoints")) == {
        str(world.endpoint.pk)
    }
    response = client_for(world.outsider_key).get("/api/v1/webhook-endpoints")
    assert _ids(response) == {str(world.outsider_endpoint.pk)}
    assert HOOK_URL not in response.content.decode()


def test_delivery_list_shows_only_the_endpoints_deliveries(world: PartnersWorld) -> None:
    path = f"/api/v1/webhook-endpoints/{world.endpoint.pk}/deliveries"
    assert _ids(client_for(world.owner_key).get(path)) == {str(world.delivery.pk)}
    outsider_path = f"/api/v1/webhook-endpoints/{world.outsider_endpoint.pk}/deliveries"
    assert _ids(client_for(world.outsider_key).get(outsider_path)) == set()


def test_a_key_created_by_another_partner_lands_with_that_partner(world: PartnersWorld) -> None:
    response = client_for(world.outsider_key).post(
        "/api/v1/api-keys", {"name": "mine", "scopes": ["read"]}, format="json"
    )
    assert response.status_code == 201
    created = ApiKey.objects.get(pk=response.json()["id"])
    assert created.partner == world.outsider
    assert str(created.pk) not in _ids(client_for(world.owner_key).get("/api/v1/api-keys"))


def test_me_names_the_callers_partner_and_key(world: PartnersWorld) -> None:
    body = client_for(world.outsider_key).get("/api/v1/me").json()
    assert body["partner"]["id"] == str(world.outsider.pk)
    assert body["api_key"]["id"] == str(world.outsider_key.api_key.pk)
    assert "key" not in body["api_key"]
    assert world.outsider_key.plaintext not in json.dumps(body)


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer    ",
        "Token sanpo_abc",
        "sanpo_only_the_key",
        "Bearer sanpo_short_key",
        "Bearer not-a-sanpo-key",
        "Bearer sanpo_0123456789_" + "a" * 38,
    ],
)
def test_malformed_authorization_headers_are_refused(world: PartnersWorld, header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_a_well_formed_key_that_was_never_issued_is_refused(world: PartnersWorld) -> None:
    from partners.keys import generate_key

    response = client_for(generate_key().plaintext).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


# --- Suspension takes effect on the very next request ------------------------------------------


def test_suspending_a_partner_stops_its_keys_at_once_and_resuming_restores_them(
    world: PartnersWorld, alliance_manager: Any
) -> None:
    client = client_for(world.owner_key)
    assert client.get("/api/v1/me").status_code == 200

    services.partner_suspend(partner=world.partner, actor=Actor(user=alliance_manager))
    for path in ("/api/v1/me", "/api/v1/api-keys", "/api/v1/webhook-endpoints"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "partner_suspended"
    refused = client.post("/api/v1/api-keys", {"name": "x", "scopes": ["read"]}, format="json")
    assert refused.status_code == 403
    assert not ApiKey.objects.filter(name="x").exists()
    # Another partner is unaffected.
    assert client_for(world.outsider_key).get("/api/v1/me").status_code == 200

    services.partner_resume(partner=world.partner, actor=Actor(user=alliance_manager))
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/api-keys").status_code == 200


def test_an_offboarded_partners_keys_are_refused(
    world: PartnersWorld, alliance_manager: Any
) -> None:
    services.partner_offboard(partner=world.partner, actor=Actor(user=alliance_manager))
    response = client_for(world.owner_key).get("/api/v1/me")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "partner_suspended"


def test_a_third_partner_suspended_does_not_affect_others(world: PartnersWorld) -> None:
    third = make_partner("third-co")
    third_key = issue_key(third)
    services.partner_suspend(partner=third, actor=Actor.system())
    assert client_for(third_key.plaintext).get("/api/v1/me").status_code == 403
    assert client_for(world.owner_key).get("/api/v1/me").status_code == 200
