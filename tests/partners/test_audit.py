"""The audit log: each security-relevant action writes one event with its actor, object and
outcome, in the transaction of the action, so a failed action leaves no event behind."""

from typing import Any

import pytest
from django.core.cache import cache

from partners import services
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import ApiKey, AuditEvent, Partner, WebhookEndpoint
from partners.services import credentials as credential_services
from partners.services import partners as partner_services
from partners.services import webhooks as webhook_services
from tests.conftest import Key, client_for
from tests.factories import issue_key

HOOK_URL = "http://127.0.0.1:9/hook"
Action = AuditEvent.Action


def _new_events(since: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=since).order_by("pk"))


def _last_pk() -> int:
    last = AuditEvent.objects.order_by("-pk").first()
    return last.pk if last is not None else 0


def _assert_by_key(event: AuditEvent, key: Key) -> None:
    api_key = key.api_key
    assert event.actor_api_key_id == api_key.pk
    assert event.actor_user_id is None
    assert event.actor_label == f"API key {api_key.masked} of {key.partner.slug}"
    assert event.ip_address == "127.0.0.1"
    assert event.partner_id == key.partner.pk


# --- Each action writes its event ---------------------------------------------------------------


def test_issuing_a_key_through_the_api_is_audited(partner_key: Key) -> None:
    since = _last_pk()
    response = client_for(partner_key).post(
        "/api/v1/api-keys", {"name": "crm", "scopes": ["read"]}, format="json"
    )
    assert response.status_code == 201
    new_id = response.json()["id"]

    events = _new_events(since)
    assert [e.action for e in events] == [Action.API_KEY_ISSUED, Action.PERMISSION_GRANTED]
    issued, granted = events
    for event in events:
        _assert_by_key(event, partner_key)
        assert event.outcome == AuditEvent.Outcome.SUCCESS
        assert event.object_type == "partners.ApiKey"
        assert event.object_id == new_id
    assert issued.detail == {"scopes": ["read"], "expires_at": None}
    assert "crm" in issued.object_repr
    assert response.json()["key"] not in str(issued.detail) + issued.object_repr
    assert granted.detail == {"permissions": ["view_apikey", "change_apikey"]}


def test_issuing_by_a_user_records_the_user(partner: Partner, partner_admin: Any) -> None:
    since = _last_pk()
    issued = services.api_key_issue(
        partner=partner, name="from admin", scopes=["read"], actor=Actor(user=partner_admin)
    )
    event = AuditEvent.objects.get(pk__gt=since, action=Action.API_KEY_ISSUED)
    assert event.actor_user == partner_admin
    assert event.actor_api_key is None
    assert event.actor_label == "user bob-partner-admin"
    assert event.object_id == str(issued.api_key.pk)
    assert event.partner == partner


def test_revoking_is_audited_once(partner: Partner, partner_key: Key) -> None:
    target = issue_key(partner, name="old").api_key
    since = _last_pk()
    client = client_for(partner_key)
    assert client.post(f"/api/v1/api-keys/{target.pk}/revoke").status_code == 200
    assert client.post(f"/api/v1/api-keys/{target.pk}/revoke").status_code == 200

    (event,) = _new_events(since)
    assert event.action == Action.API_KEY_REVOKED
    assert event.outcome == AuditEvent.Outcome.SUCCESS
    assert event.object_type == "partners.ApiKey"
    assert event.object_id == str(target.pk)
    _assert_by_key(event, partner_key)


def test_rotating_is_audited(partner: Partner, partner_key: Key) -> None:
    target = issue_key(partner, name="old").api_key
    since = _last_pk()
    response = client_for(partner_key).post(
        f"/api/v1/api-keys/{target.pk}/rotate", {"overlap_hours": 2}, format="json"
    )
    assert response.status_code == 201
    successor = response.json()["id"]

    events = _new_events(since)
    assert [e.action for e in events] == [
        Action.API_KEY_ISSUED,
        Action.PERMISSION_GRANTED,
        Action.API_KEY_ROTATED,
    ]
    rotated = events[-1]
    assert rotated.object_id == str(target.pk)
    assert rotated.detail["successor"] == successor
    assert "old_expires_at" in rotated.detail
    assert events[0].object_id == successor
    for event in events:
        _assert_by_key(event, partner_key)


def test_suspending_and_resuming_are_audited(partner: Partner, alliance_manager: Any) -> None:
    since = _last_pk()
    actor = Actor(user=alliance_manager, ip_address="192.0.2.10")
    services.partner_suspend(partner=partner, actor=actor)
    services.partner_suspend(partner=partner, actor=actor)  # no change, no event
    services.partner_resume(partner=partner, actor=actor)

    suspended, resumed = _new_events(since)
    assert suspended.action == Action.PARTNER_SUSPENDED
    assert suspended.detail == {"from": "active", "to": "suspended"}
    assert resumed.action == Action.PARTNER_RESUMED
    assert resumed.detail == {"from": "suspended", "to": "active"}
    for event in (suspended, resumed):
        assert event.actor_user == alliance_manager
        assert event.actor_label == "user alice-manager"
        assert event.ip_address == "192.0.2.10"
        assert event.partner == partner
        assert event.object_type == "partners.Partner"
        assert event.object_id == str(partner.pk)
        assert event.outcome == AuditEvent.Outcome.SUCCESS


def test_webhook_lifecycle_is_audited(partner_key: Key) -> None:
    client = client_for(partner_key)
    since = _last_pk()
    created = client.post(
        "/api/v1/webhook-endpoints", {"url": HOOK_URL, "events": ["api_key.issued"]}, format="json"
    )
    assert created.status_code == 201
    endpoint_id = created.json()["id"]
    path = f"/api/v1/webhook-endpoints/{endpoint_id}"
    assert client.patch(path, {"description": "orders"}, format="json").status_code == 200
    assert client.post(f"{path}/rotate-secret", {}, format="json").status_code == 200
    assert client.delete(path).status_code == 204

    events = _new_events(since)
    assert [e.action for e in events] == [
        Action.WEBHOOK_CREATED,
        Action.PERMISSION_GRANTED,
        Action.WEBHOOK_UPDATED,
        Action.WEBHOOK_SECRET_ROTATED,
        Action.WEBHOOK_DELETED,
    ]
    for event in events:
        _assert_by_key(event, partner_key)
        assert event.object_type == "partners.WebhookEndpoint"
        assert event.object_id == endpoint_id
        assert event.outcome == AuditEvent.Outcome.SUCCESS
    assert events[0].detail == {"url": HOOK_URL, "events": ["api_key.issued"]}
    assert events[2].detail == {"changed": {"description": "orders"}}
    assert events[4].detail == {"url": HOOK_URL}
    secret = created.json()["secret"]
    assert all(secret not in str(e.detail) for e in events)
    # The deletion event outlives the endpoint it names.
    assert not WebhookEndpoint.objects.filter(pk=endpoint_id).exists()


def test_granting_and_removing_permissions_are_audited(
    partner: Partner, outsider: Partner, alliance_manager: Any
) -> None:
    since = _last_pk()
    actor = Actor(user=alliance_manager)
    services.partner_grant(partner=partner, obj=outsider, perms=("view",), actor=actor)
    services.partner_revoke_grant(partner=partner, obj=outsider, perms=("view",), actor=actor)

    granted, removed = _new_events(since)
    assert granted.action == Action.PERMISSION_GRANTED
    assert removed.action == Action.PERMISSION_REMOVED
    for event in (granted, removed):
        assert event.partner == partner
        assert event.actor_user == alliance_manager
        assert event.object_type == "partners.Partner"
        assert event.object_id == str(outsider.pk)
        assert event.detail == {"permissions": ["view_partner"]}


def test_creating_a_partner_is_audited(alliance_manager: Any) -> None:
    since = _last_pk()
    created = services.partner_create(
        slug="new-co", name_ja="新株式会社", name_latin="New Co", actor=Actor(user=alliance_manager)
    )
    actions = [(e.action, e.object_id) for e in _new_events(since)]
    assert actions == [
        (Action.PARTNER_CREATED, str(created.pk)),
        (Action.PERMISSION_GRANTED, str(created.pk)),
    ]


# --- A failed action leaves no event ---------------------------------------------------------


class InjectedError(ApplicationError):
    def __init__(self) -> None:
        super().__init__(ErrorCode.CONFLICT, "Injected failure after the audit event.")


def _fail(*args: Any, **kwargs: Any) -> None:
    raise InjectedError()


def test_a_failed_issue_through_the_api_leaves_no_key_and_no_event(
    partner_key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The grant runs after the audit event was written: its failure must take the event along.
    monkeypatch.setattr(credential_services, "partner_grant", _fail)
    keys_before, since = ApiKey.objects.count(), _last_pk()

    response = client_for(partner_key).post(
        "/api/v1/api-keys", {"name": "doomed", "scopes": ["read"]}, format="json"
    )

    assert response.status_code == 409
    assert ApiKey.objects.count() == keys_before
    assert _new_events(since) == []


def test_a_failed_issue_through_the_service_leaves_no_event(
    partner: Partner, alliance_manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def grant_then_fail(**kwargs: Any) -> None:
        partner_services.partner_grant(**kwargs)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(credential_services, "partner_grant", grant_then_fail)
    since = _last_pk()
    with pytest.raises(RuntimeError):
        services.api_key_issue(
            partner=partner, name="doomed", scopes=["read"], actor=Actor(user=alliance_manager)
        )
    assert not ApiKey.objects.filter(name="doomed").exists()
    assert _new_events(since) == []


def test_a_failed_rotation_leaves_no_successor_and_no_events(
    partner: Partner, partner_key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = issue_key(partner, name="old").api_key
    original = credential_services.audit_record

    def fail_on_rotated(**kwargs: Any) -> AuditEvent:
        if kwargs["action"] == Action.API_KEY_ROTATED:
            raise InjectedError()
        return original(**kwargs)

    monkeypatch.setattr(credential_services, "audit_record", fail_on_rotated)
    keys_before, since = ApiKey.objects.count(), _last_pk()

    response = client_for(partner_key).post(f"/api/v1/api-keys/{target.pk}/rotate")

    assert response.status_code == 409
    assert ApiKey.objects.count() == keys_before
    assert _new_events(since) == []
    target.refresh_from_db()
    assert target.replaced_by_id is None
    assert target.expires_at is None


def test_a_failed_suspension_changes_nothing(
    partner: Partner, alliance_manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(partner_services, "audit_record", _fail)
    with pytest.raises(InjectedError):
        services.partner_suspend(partner=partner, actor=Actor(user=alliance_manager))
    partner.refresh_from_db()
    assert partner.status == Partner.Status.ACTIVE


def test_a_failed_webhook_creation_leaves_no_endpoint_and_no_event(
    partner_key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook_services, "partner_grant", _fail)
    since = _last_pk()
    response = client_for(partner_key).post(
        "/api/v1/webhook-endpoints", {"url": HOOK_URL, "events": ["api_key.issued"]}, format="json"
    )
    assert response.status_code == 409
    assert not WebhookEndpoint.objects.exists()
    assert _new_events(since) == []


@pytest.mark.parametrize("idempotency_key", [None, "patch-1"])
def test_a_request_that_fails_after_its_service_committed_is_rolled_back_whole(
    partner_key: Key, monkeypatch: pytest.MonkeyPatch, idempotency_key: str | None
) -> None:
    """The API runs each write in one transaction: a 4xx after the service's own (nested)
    atomic block still rolls back the service's rows and their audit events."""
    endpoint = services.webhook_endpoint_create(
        partner=partner_key.partner, url=HOOK_URL, events=["api_key.issued"], actor=Actor.system()
    ).endpoint
    original_update, original_issue = services.webhook_endpoint_update, services.api_key_issue

    def update_then_fail(**kwargs: Any) -> Any:
        original_update(**kwargs)
        raise InjectedError()

    def issue_then_fail(**kwargs: Any) -> Any:
        original_issue(**kwargs)
        raise InjectedError()

    monkeypatch.setattr(services, "webhook_endpoint_update", update_then_fail)
    monkeypatch.setattr(services, "api_key_issue", issue_then_fail)
    keys_before, since = ApiKey.objects.count(), _last_pk()
    client = client_for(partner_key)
    headers: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}

    patched = client.patch(
        f"/api/v1/webhook-endpoints/{endpoint.pk}", {"description": "lost"}, format="json"
    )
    posted = client.post(
        "/api/v1/api-keys", {"name": "lost", "scopes": ["read"]}, format="json", **headers
    )

    assert patched.status_code == posted.status_code == 409
    endpoint.refresh_from_db()
    assert endpoint.description == ""
    assert ApiKey.objects.count() == keys_before
    assert _new_events(since) == []


def test_a_refused_request_writes_no_success_event(partner_key: Key) -> None:
    since = _last_pk()
    client = client_for(partner_key)
    client.post("/api/v1/api-keys", {"name": "x", "scopes": ["nope"]}, format="json")
    client.post(
        "/api/v1/webhook-endpoints",
        {"url": "https://10.0.0.1/", "events": ["api_key.issued"]},
        format="json",
    )
    client.post(f"/api/v1/api-keys/{partner_key.partner.pk}/revoke")
    assert _new_events(since) == []


# --- Refused keys: one denied event per key and minute ---------------------------------------


def test_using_a_revoked_key_records_one_denied_event_a_minute(
    partner: Partner, alliance_manager: Any
) -> None:
    issued = issue_key(partner, name="revoked")
    services.api_key_revoke(api_key=issued.api_key, actor=Actor(user=alliance_manager))
    since = _last_pk()
    client = client_for(issued.plaintext)

    for _ in range(5):
        assert client.get("/api/v1/me").status_code == 401
    refused = client.post("/api/v1/api-keys", {"name": "x", "scopes": ["read"]}, format="json")
    assert refused.status_code == 401

    (event,) = _new_events(since)
    assert event.action == Action.API_KEY_REJECTED
    assert event.outcome == AuditEvent.Outcome.DENIED
    assert event.actor_api_key_id == issued.api_key.pk
    assert event.partner == partner
    assert event.object_id == str(issued.api_key.pk)
    assert event.detail == {"reason": "api_key_revoked"}

    cache.delete(f"audit:key-refused:{issued.api_key.pk}")  # as if the minute had passed
    client.get("/api/v1/me")
    assert len(_new_events(since)) == 2


def test_the_denied_event_survives_the_refused_write(
    partner: Partner, alliance_manager: Any
) -> None:
    issued = issue_key(partner, name="revoked")
    services.api_key_revoke(api_key=issued.api_key, actor=Actor(user=alliance_manager))
    since = _last_pk()
    response = client_for(issued.plaintext).post(
        "/api/v1/api-keys", {"name": "x", "scopes": ["read"]}, format="json"
    )
    assert response.status_code == 401
    assert [e.action for e in _new_events(since)] == [Action.API_KEY_REJECTED]


@pytest.mark.parametrize(
    ("state", "reason"),
    [("expired", "api_key_expired"), ("suspended", "partner_suspended")],
)
def test_other_refusals_of_a_real_key_are_recorded(
    partner: Partner, alliance_manager: Any, state: str, reason: str
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    issued = issue_key(partner, name="k")
    if state == "expired":
        ApiKey.objects.filter(pk=issued.api_key.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    else:
        services.partner_suspend(partner=partner, actor=Actor(user=alliance_manager))
    since = _last_pk()
    client = client_for(issued.plaintext)
    client.get("/api/v1/me")
    client.get("/api/v1/me")
    (event,) = _new_events(since)
    assert event.outcome == AuditEvent.Outcome.DENIED
    assert event.detail == {"reason": reason}


def test_refusals_are_limited_per_key(partner: Partner, alliance_manager: Any) -> None:
    first, second = issue_key(partner, name="a"), issue_key(partner, name="b")
    for issued in (first, second):
        services.api_key_revoke(api_key=issued.api_key, actor=Actor(user=alliance_manager))
    since = _last_pk()
    for issued in (first, second, first, second):
        client_for(issued.plaintext).get("/api/v1/me")
    assert sorted(e.object_id for e in _new_events(since)) == sorted(
        [str(first.api_key.pk), str(second.api_key.pk)]
    )


def test_an_unknown_or_mistyped_key_records_nothing(partner_key: Key) -> None:
    from partners.keys import generate_key

    since = _last_pk()
    client_for(generate_key().plaintext).get("/api/v1/me")
    client_for(partner_key.plaintext[:-1] + "x").get("/api/v1/me")
    client_for(None).get("/api/v1/me")
    assert _new_events(since) == []


def test_a_live_key_records_no_event_for_reads(partner_key: Key) -> None:
    since = _last_pk()
    client = client_for(partner_key)
    for path in ("/api/v1/me", "/api/v1/api-keys", "/api/v1/partners"):
        assert client.get(path).status_code == 200
    assert _new_events(since) == []


def test_every_app_registers_its_own_audit_actions() -> None:
    from consent.audit import ConsentAuditAction
    from federation.audit import FederationAuditAction
    from partners.audit_actions import AUDIT_ACTIONS

    for actions in (AuditEvent.Action, ConsentAuditAction, FederationAuditAction):
        assert {str(a.value): str(a.label) for a in actions}.items() <= AUDIT_ACTIONS.items()


def test_action_labels_are_read_in_the_reader_language() -> None:
    from django.utils import translation

    from partners.audit_actions import audit_action_label

    with translation.override("en"):
        assert audit_action_label("member.viewed") == "Member personal data viewed"
    with translation.override("ja"):
        assert audit_action_label("member.viewed") == "会員の個人情報を閲覧"
        assert audit_action_label("no.longer_registered") == "no.longer_registered"


def test_an_unregistered_audit_action_is_refused(db: Any) -> None:
    from partners.services.audit import audit_record

    with pytest.raises(ValueError, match="Unregistered audit action"):
        audit_record(action="coin.minted_from_thin_air", actor=Actor.system())
    assert not AuditEvent.objects.filter(action="coin.minted_from_thin_air").exists()


def test_registering_an_action_twice_is_refused() -> None:
    from django.db import models

    from partners.audit_actions import register_audit_actions

    class Again(models.TextChoices):
        PARTNER_CREATED = "partner.created", "Partner created again"

    with pytest.raises(ValueError, match="registered twice"):
        register_audit_actions(Again)


def test_every_app_registers_its_own_error_codes_with_a_status() -> None:
    from consent.errors import ConsentErrorCode
    from federation.errors import FederationErrorCode
    from partners.errors import ERROR_CODES, STATUS_BY_CODE, ErrorCode, register_error_codes

    for codes in (ErrorCode, ConsentErrorCode, FederationErrorCode):
        assert all(ERROR_CODES[c.value] is c and c.value in STATUS_BY_CODE for c in codes)
    assert STATUS_BY_CODE["no_agreement"] == 403
    with pytest.raises(ValueError, match="registered twice"):
        register_error_codes(FederationErrorCode, {c: 400 for c in FederationErrorCode})
