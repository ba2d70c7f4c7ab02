"""The alliance managers' console (/admin/): who gets in, what it shows, and that every change
goes through the services (audit events, guardian grants, keys shown once)."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from guardian.shortcuts import get_perms

from partners import services
from partners.actors import Actor
from partners.keys import digest_key
from partners.models import ApiKey, AuditEvent, Partner, WebhookDelivery, WebhookEndpoint
from tests.conftest import Key, client_for

KEY_PATTERN = re.compile(r"sanpo_[0-9A-Za-z]{10}_[0-9A-Za-z]{38}")


@pytest.fixture
def manager_client(alliance_manager: Any) -> Client:
    client = Client()
    client.force_login(alliance_manager)
    return client


def _endpoint_with_delivery(partner: Partner) -> tuple[WebhookEndpoint, WebhookDelivery]:
    endpoint = services.webhook_endpoint_create(
        partner=partner, url="https://8.8.8.8/hook", events=["api_key.issued"], actor=Actor.system()
    ).endpoint
    # In a test transaction the on-commit hand-over never runs: nothing is sent.
    (delivery,) = services.webhook_emit(
        partner=partner, event_type="api_key.issued", data={"api_key_id": "k-1"}
    )
    return endpoint, delivery


def _action(client: Client, model: str, action: str, *pks: Any) -> Any:
    return client.post(
        f"/admin/partners/{model}/",
        {"action": action, "_selected_action": [str(pk) for pk in pks]},
        follow=True,
    )


def _messages(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- who gets in ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("partner", "Brand Co"),
        ("apikey", "test key"),
        ("webhookendpoint", "https://8.8.8.8/hook"),
        ("webhookdelivery", "api_key.issued"),
        ("auditevent", "partner.created"),
        ("staffrole", "alice-manager"),
    ],
)
def test_an_alliance_manager_sees_the_changelists(
    model: str, expected: str, manager_client: Client, partner: Partner, partner_key: Key
) -> None:
    _endpoint_with_delivery(partner)

    response = manager_client.get(f"/admin/partners/{model}/")

    assert response.status_code == 200
    assert expected in response.content.decode()


def test_an_alliance_manager_sees_the_admin_index(manager_client: Client) -> None:
    response = manager_client.get("/admin/")
    assert response.status_code == 200
    content = response.content.decode()
    for name in ("Partners", "API keys", "Webhook deliveries", "Audit events"):
        assert name in content


@pytest.mark.parametrize(
    "persona", ["compliance_reviewer", "partner_admin", "partner_analyst", "host_admin"]
)
@pytest.mark.parametrize("path", ["/admin/", "/admin/partners/partner/", "/admin/partners/apikey/"])
def test_other_staff_cannot_use_the_admin(persona: str, path: str, request: Any) -> None:
    client = Client()
    client.force_login(request.getfixturevalue(persona))

    response = client.get(path)

    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert response["Location"].startswith("/admin/login/")


def test_a_partner_api_key_does_not_open_the_admin(partner_key: Key) -> None:
    response = client_for(partner_key).get("/admin/partners/partner/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- partners ---------------------------------------------------------------------------------


def test_creating_a_partner_in_the_admin_creates_its_group_grants_and_audit(
    manager_client: Client, alliance_manager: Any
) -> None:
    response = manager_client.post(
        "/admin/partners/partner/add/",
        {
            "slug": "sakura-books",
            "name_ja": "さくら書店株式会社",
            "name_latin": "Sakura Books",
            "kind": Partner.Kind.BRAND,
            "holds_customer_data": "on",
            "contacts-TOTAL_FORMS": "1",
            "contacts-INITIAL_FORMS": "0",
            "contacts-MIN_NUM_FORMS": "0",
            "contacts-MAX_NUM_FORMS": "1000",
            "contacts-0-role": "business",
            "contacts-0-name": "Aoi Tsukishiro",
            "contacts-0-email": "aoi@sakura-books.example",
            "contacts-0-phone": "",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    partner = Partner.objects.get(slug="sakura-books")
    assert partner.group == Group.objects.get(name="partner:sakura-books")
    assert "view_partner" in get_perms(partner.group, partner)
    assert partner.contacts.get().email == "aoi@sakura-books.example"
    created = AuditEvent.objects.get(action=AuditEvent.Action.PARTNER_CREATED, partner=partner)
    assert created.actor_user == alliance_manager


def test_editing_a_partner_in_the_admin_is_audited_with_each_change(
    manager_client: Client, alliance_manager: Any, partner: Partner
) -> None:
    form = {
        "name_ja": "ブランド株式会社",
        "name_latin": partner.name_latin,
        "holds_customer_data": "",  # unticked
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
    }

    response = manager_client.post(f"/admin/partners/partner/{partner.pk}/change/", form)
    again = manager_client.post(f"/admin/partners/partner/{partner.pk}/change/", form)

    assert response.status_code == again.status_code == 302
    partner.refresh_from_db()
    assert (partner.name_ja, partner.holds_customer_data) == ("ブランド株式会社", False)
    (updated,) = AuditEvent.objects.filter(action="partner.updated", partner=partner)
    assert updated.actor_user == alliance_manager
    assert updated.detail == {
        "name_ja": {"from": "brand-co株式会社", "to": "ブランド株式会社"},
        "holds_customer_data": {"from": True, "to": False},
    }


def test_suspend_and_resume_actions_change_status_and_audit(
    manager_client: Client, alliance_manager: Any, partner_key: Key
) -> None:
    partner = partner_key.partner

    response = _action(manager_client, "partner", "suspend", partner.pk)

    assert response.status_code == 200
    partner.refresh_from_db()
    assert partner.status == Partner.Status.SUSPENDED
    suspended = AuditEvent.objects.get(action=AuditEvent.Action.PARTNER_SUSPENDED)
    assert (suspended.actor_user, suspended.partner) == (alliance_manager, partner)
    assert client_for(partner_key).get("/api/v1/me").status_code == 403

    _action(manager_client, "partner", "resume", partner.pk)

    partner.refresh_from_db()
    assert partner.status == Partner.Status.ACTIVE
    resumed = AuditEvent.objects.get(action=AuditEvent.Action.PARTNER_RESUMED)
    assert (resumed.actor_user, resumed.partner) == (alliance_manager, partner)
    assert client_for(partner_key).get("/api/v1/me").status_code == 200


def test_an_offboarded_partner_cannot_be_resumed_from_the_admin(
    manager_client: Client, partner: Partner
) -> None:
    _action(manager_client, "partner", "offboard", partner.pk)
    response = _action(manager_client, "partner", "resume", partner.pk)

    partner.refresh_from_db()
    assert partner.status == Partner.Status.OFFBOARDED
    assert any("offboarded partner cannot change status" in m for m in _messages(response))


def test_partners_cannot_be_deleted_in_the_admin(manager_client: Client, partner: Partner) -> None:
    response = manager_client.post(f"/admin/partners/partner/{partner.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Partner.objects.filter(pk=partner.pk).exists()


# --- API keys ---------------------------------------------------------------------------------


def test_issuing_a_key_in_the_admin_shows_it_once_and_stores_its_digest(
    manager_client: Client, alliance_manager: Any, partner: Partner
) -> None:
    response = manager_client.post(
        "/admin/partners/apikey/add/",
        {
            "partner": str(partner.pk),
            "name": "CRM sync",
            "scopes": ["read", "write"],
            "expires_at_0": "",
            "expires_at_1": "",
        },
        follow=True,
    )

    assert response.status_code == 200
    shown = [KEY_PATTERN.search(m) for m in _messages(response)]
    (plaintext,) = [match.group(0) for match in shown if match]
    api_key = ApiKey.objects.get(name="CRM sync")
    assert api_key.partner == partner
    assert api_key.scopes == ["read", "write"]
    assert api_key.created_by_user == alliance_manager
    assert plaintext.split("_")[1] == api_key.lookup
    assert api_key.digest == digest_key(plaintext)
    assert plaintext not in str(ApiKey.objects.filter(pk=api_key.pk).values().get())
    assert services.api_key_authenticate(plaintext) == api_key
    issued = AuditEvent.objects.get(
        action=AuditEvent.Action.API_KEY_ISSUED, object_id=str(api_key.pk)
    )
    assert issued.actor_user == alliance_manager
    # Shown once: neither the list nor the key's own page shows it again.
    for path in ("/admin/partners/apikey/", f"/admin/partners/apikey/{api_key.pk}/change/"):
        page = manager_client.get(path)
        assert page.status_code == 200
        assert plaintext not in page.content.decode()
        assert api_key.masked in page.content.decode()


def test_issuing_a_key_that_expires_in_the_past_is_refused_with_a_message(
    manager_client: Client, partner: Partner
) -> None:
    response = manager_client.post(
        "/admin/partners/apikey/add/",
        {
            "partner": str(partner.pk),
            "name": "Already dead",
            "scopes": ["read"],
            "expires_at_0": "2020-01-01",
            "expires_at_1": "00:00:00",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert "The expiry must be in the future." in response.content.decode()
    assert not ApiKey.objects.filter(name="Already dead").exists()


def test_the_revoke_action_revokes_and_audits(
    manager_client: Client, alliance_manager: Any, partner_key: Key
) -> None:
    api_key = partner_key.api_key

    _action(manager_client, "apikey", "revoke", api_key.pk)

    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    revoked = AuditEvent.objects.get(
        action=AuditEvent.Action.API_KEY_REVOKED, object_id=str(api_key.pk)
    )
    assert revoked.actor_user == alliance_manager
    assert client_for(partner_key).get("/api/v1/me").status_code == 401


def test_the_rotate_action_issues_a_successor_shown_once_and_audits(
    manager_client: Client, alliance_manager: Any, partner_key: Key
) -> None:
    old = partner_key.api_key

    response = _action(manager_client, "apikey", "rotate", old.pk)

    old.refresh_from_db()
    assert old.replaced_by is not None
    assert old.expires_at is not None
    (plaintext,) = [m.group(0) for m in map(KEY_PATTERN.search, _messages(response)) if m]
    successor = old.replaced_by
    assert successor.digest == digest_key(plaintext)
    assert (successor.name, successor.scopes) == (old.name, old.scopes)
    rotated = AuditEvent.objects.get(action=AuditEvent.Action.API_KEY_ROTATED)
    assert (rotated.actor_user, rotated.object_id) == (alliance_manager, str(old.pk))
    assert client_for(plaintext).get("/api/v1/me").status_code == 200
    assert client_for(partner_key).get("/api/v1/me").status_code == 200  # the overlap

    again = _action(manager_client, "apikey", "rotate", old.pk)
    assert any("Only a live key" in m for m in _messages(again))
    assert ApiKey.objects.filter(partner=old.partner).count() == 2


# --- webhooks ---------------------------------------------------------------------------------


def test_registering_an_internal_webhook_url_in_the_admin_is_a_form_error(
    manager_client: Client, partner: Partner, settings: Any
) -> None:
    settings.SANPO_WEBHOOK_ALLOW_LOOPBACK = False
    data = {
        "partner": str(partner.pk),
        "url": "https://10.0.0.1/hook",
        "description": "",
        "events": '["api_key.issued"]',
        "is_active": "on",
    }

    refused = manager_client.post("/admin/partners/webhookendpoint/add/", data)
    unknown_event = manager_client.post(
        "/admin/partners/webhookendpoint/add/",
        {**data, "url": "https://8.8.8.8/hook", "events": '["no.such.event"]'},
    )

    assert refused.status_code == 200
    assert "must resolve to public addresses" in refused.content.decode()
    assert unknown_event.status_code == 200
    assert "Unknown event types: no.such.event." in unknown_event.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_registering_a_webhook_in_the_admin_shows_the_secret_and_grants_it(
    manager_client: Client, partner: Partner, settings: Any
) -> None:
    settings.SANPO_WEBHOOK_ALLOW_LOOPBACK = False
    response = manager_client.post(
        "/admin/partners/webhookendpoint/add/",
        {
            "partner": str(partner.pk),
            "url": "https://8.8.8.8/hook",
            "description": "CRM",
            "events": '["api_key.issued"]',
            "is_active": "on",
        },
        follow=True,
    )

    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get(partner=partner)
    secret = endpoint.secrets.get().secret
    assert any(secret in m for m in _messages(response))
    assert "view_webhookendpoint" in get_perms(partner.group, endpoint)
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.WEBHOOK_CREATED, object_id=str(endpoint.pk)
    ).exists()


# --- read-only logs ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["auditevent", "webhookdelivery"])
def test_the_audit_log_and_deliveries_are_read_only(
    model: str, manager_client: Client, partner: Partner
) -> None:
    _, delivery = _endpoint_with_delivery(partner)
    obj: Any = delivery if model == "webhookdelivery" else AuditEvent.objects.first()
    before = list(type(obj).objects.values())
    base = f"/admin/partners/{model}/"

    assert manager_client.get(f"{base}{obj.pk}/change/").status_code == 200  # may look
    assert manager_client.get(f"{base}add/").status_code == 403
    assert manager_client.post(f"{base}add/", {}).status_code == 403
    assert manager_client.post(f"{base}{obj.pk}/change/", {}).status_code == 403
    assert manager_client.get(f"{base}{obj.pk}/delete/").status_code == 403
    assert manager_client.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    # The bulk delete action is not offered either, even when posted as if confirmed.
    manager_client.post(
        base, {"action": "delete_selected", "_selected_action": [str(obj.pk)], "post": "yes"}
    )

    assert list(type(obj).objects.values()) == before
    changelist = manager_client.get(base).content.decode()
    assert f"{base}add/" not in changelist


def test_an_endpoint_whose_url_is_now_refused_can_still_be_disabled_in_the_admin(
    manager_client: Client, alliance_manager: Any, partner: Partner, settings: Any
) -> None:
    settings.SANPO_WEBHOOK_ALLOW_LOOPBACK = True
    endpoint = services.webhook_endpoint_create(
        partner=partner,
        url="http://127.0.0.1:9/hook",
        events=["api_key.issued"],
        actor=Actor.system(),
    ).endpoint
    settings.SANPO_WEBHOOK_ALLOW_LOOPBACK = False
    data = {
        "url": endpoint.url,
        "description": "",
        "events": '["api_key.issued"]',
        "initial-events": '["api_key.issued"]',  # as the browser sends it back
        # is_active: unticked
    }

    response = manager_client.post(f"/admin/partners/webhookendpoint/{endpoint.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    updated = AuditEvent.objects.get(action=AuditEvent.Action.WEBHOOK_UPDATED)
    assert (updated.actor_user, updated.detail) == (
        alliance_manager,
        {"changed": {"is_active": False}},
    )
    # Changing the URL to another refused one is a form error.
    moved = manager_client.post(
        f"/admin/partners/webhookendpoint/{endpoint.pk}/change/",
        {**data, "url": "https://192.168.1.1/hook"},
    )
    assert moved.status_code == 200
    assert "must resolve to public addresses" in moved.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.url == "http://127.0.0.1:9/hook"


def test_a_service_refusal_in_the_admin_is_a_message_not_a_server_error(
    manager_client: Client, partner: Partner
) -> None:
    from partners.services.webhooks import MAX_ENDPOINTS_PER_PARTNER

    # Fill the partner's quota through the service, then ask the admin for one more: only
    # the service knows the limit, and its refusal must reach the manager as a message.
    for n in range(MAX_ENDPOINTS_PER_PARTNER):
        services.webhook_endpoint_create(
            partner=partner,
            url=f"https://8.8.8.{n + 1}/hook",
            events=["api_key.issued"],
            actor=Actor.system(),
        )
    response = manager_client.post(
        "/admin/partners/webhookendpoint/add/",
        {
            "partner": str(partner.pk),
            "url": "https://8.8.4.4/one-too-many",
            "description": "",
            "events": '["api_key.issued"]',
            "is_active": "on",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert any("at most" in m for m in _messages(response)), _messages(response)
    assert WebhookEndpoint.objects.filter(partner=partner).count() == MAX_ENDPOINTS_PER_PARTNER
