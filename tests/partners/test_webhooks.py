"""Webhooks: signatures, deliveries to a real local receiver, retries, and SSRF refusals.

Deliveries go to ``webhook_receiver``, an HTTP server on 127.0.0.1 in a thread (conftest). The
tests that deliver commit for real (``transaction=True``), so the task is handed over by the
on-commit hook exactly as in production, and run in-process (``eager_celery``).
"""

import json
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.db import transaction
from django.utils import timezone

from partners import services
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import (
    AuditEvent,
    Partner,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSecret,
)
from partners.netguard import resolve_target
from partners.signing import compute_signature, signature_header, verify_signature
from tests.conftest import Key, WebhookReceiver, client_for

SECRET = "whsec_test-secret"
EVENT_ID = "0b7f7a4e-1d6a-4a43-9d0e-6f3c2b9a8e11"
BODY = b'{"id":"0b7f7a4e-1d6a-4a43-9d0e-6f3c2b9a8e11","type":"webhook.ping","data":{}}'


def _header(*secrets: str, timestamp: int | None = None, body: bytes = BODY) -> str:
    return signature_header(
        secrets=secrets,
        event_id=EVENT_ID,
        timestamp=int(time.time()) if timestamp is None else timestamp,
        body=body,
    )


# --- partners.signing ------------------------------------------------------------------------


def test_a_fresh_valid_signature_verifies() -> None:
    assert verify_signature(secret=SECRET, header=_header(SECRET), event_id=EVENT_ID, body=BODY)


def test_a_tampered_body_is_refused() -> None:
    header = _header(SECRET)
    tampered = BODY.replace(b"webhook.ping", b"webhook.pong")
    assert not verify_signature(secret=SECRET, header=header, event_id=EVENT_ID, body=tampered)


def test_a_signature_for_another_event_id_is_refused() -> None:
    header = _header(SECRET)
    other = str(uuid.uuid4())
    assert not verify_signature(secret=SECRET, header=header, event_id=other, body=BODY)


def test_a_signature_under_another_secret_is_refused() -> None:
    header = _header("whsec_someone-else")
    assert not verify_signature(secret=SECRET, header=header, event_id=EVENT_ID, body=BODY)


def test_a_stale_timestamp_is_refused_and_a_recent_one_accepted() -> None:
    now = 1_800_000_000
    tolerance = 300

    def verify(timestamp: int) -> bool:
        return verify_signature(
            secret=SECRET,
            header=_header(SECRET, timestamp=timestamp),
            event_id=EVENT_ID,
            body=BODY,
            tolerance=tolerance,
            now=now,
        )

    assert verify(now - tolerance + 1)
    assert not verify(now - tolerance - 1)  # a replay of an old delivery
    assert not verify(now + tolerance + 1)  # from the future


def test_a_header_without_v1_or_without_t_is_refused() -> None:
    timestamp = int(time.time())
    sig = compute_signature(secret=SECRET, event_id=EVENT_ID, timestamp=timestamp, body=BODY)
    assert verify_signature(
        secret=SECRET, header=f"t={timestamp},v1={sig}", event_id=EVENT_ID, body=BODY
    )
    for header in (f"t={timestamp}", f"t={timestamp},v0={sig}", f"v1={sig}", "", "garbage"):
        assert not verify_signature(secret=SECRET, header=header, event_id=EVENT_ID, body=BODY)


# --- helpers for deliveries -------------------------------------------------------------------


def _endpoint(partner: Partner, url: str, events: list[str] | None = None) -> tuple[Any, str]:
    created = services.webhook_endpoint_create(
        partner=partner,
        url=url,
        events=events or ["api_key.issued", "partner.suspended"],
        actor=Actor.system(),
    )
    return created.endpoint, created.secret


def _emit(partner: Partner, event_type: str = "api_key.issued") -> list[WebhookDelivery]:
    with transaction.atomic():
        return services.webhook_emit(
            partner=partner, event_type=event_type, data={"api_key_id": "k-1", "n": 1}
        )


def _attempts(delivery: WebhookDelivery) -> list[tuple[int, int | None]]:
    return list(
        WebhookAttempt.objects.filter(delivery=delivery)
        .order_by("number")
        .values_list("number", "status_code")
    )


# --- deliveries end to end --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_an_event_is_posted_signed_after_commit(
    partner: Partner, partner_key: Key, webhook_receiver: WebhookReceiver
) -> None:
    response = client_for(partner_key).post(
        "/api/v1/webhook-endpoints",
        {"url": webhook_receiver.url, "events": ["api_key.issued"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    secret = response.json()["secret"]

    with transaction.atomic():
        (delivery,) = services.webhook_emit(
            partner=partner, event_type="api_key.issued", data={"api_key_id": "k-1"}
        )
        assert webhook_receiver.requests == []  # nothing leaves before the commit
    sent_after = time.time()

    assert len(webhook_receiver.requests) == 1
    received = webhook_receiver.requests[0]
    assert received.path == "/hooks/sanpo"
    headers = received.headers
    assert headers["content-type"] == "application/json"
    assert headers["sanpo-event-id"] == str(delivery.event_id)
    assert headers["sanpo-event-type"] == "api_key.issued"
    assert headers["sanpo-delivery-id"] == str(delivery.pk)
    assert abs(int(headers["sanpo-timestamp"]) - sent_after) < 10
    assert headers["sanpo-signature"].startswith(f"t={headers['sanpo-timestamp']},v1=")
    assert verify_signature(
        secret=secret,
        header=headers["sanpo-signature"],
        event_id=headers["sanpo-event-id"],
        body=received.body,
    )
    envelope = json.loads(received.body)
    assert envelope == {
        "id": str(delivery.event_id),
        "type": "api_key.issued",
        "created_at": envelope["created_at"],
        "partner_id": str(partner.pk),
        "data": {"api_key_id": "k-1"},
    }
    assert envelope["created_at"].startswith(str(timezone.now().year))

    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.SUCCEEDED
    assert delivery.attempt_count == 1
    assert delivery.completed_at is not None
    (attempt,) = WebhookAttempt.objects.filter(delivery=delivery)
    assert (attempt.number, attempt.status_code, attempt.error) == (1, 200, "")
    assert attempt.response_excerpt == '{"received": true}'


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_a_failed_attempt_stays_pending_and_the_next_attempt_succeeds(
    partner: Partner, webhook_receiver: WebhookReceiver, settings: Any
) -> None:
    settings.SANPO_WEBHOOK_RETRY_BASE_SECONDS = 30
    _endpoint(partner, webhook_receiver.url)
    webhook_receiver.answer(500)

    before = timezone.now()
    (delivery,) = _emit(partner)
    after = timezone.now()

    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.PENDING
    assert delivery.attempt_count == 1
    assert delivery.completed_at is None
    assert delivery.next_attempt_at is not None
    assert before + timedelta(seconds=30) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= after + timedelta(seconds=30)
    (failed,) = WebhookAttempt.objects.filter(delivery=delivery)
    assert failed.status_code == 500
    assert "500" in failed.error

    outcome = services.webhook_attempt_delivery(delivery_id=str(delivery.pk), attempt=2)

    assert outcome.delivered
    assert outcome.retry_in is None
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.SUCCEEDED
    assert delivery.attempt_count == 2
    assert _attempts(delivery) == [(1, 500), (2, 200)]
    first, second = webhook_receiver.requests
    # A retry is the same event: a receiver deduplicates on the event id.
    assert first.headers["sanpo-event-id"] == second.headers["sanpo-event-id"]
    assert first.body == second.body


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_a_delivery_fails_for_good_after_the_last_attempt(
    partner: Partner, webhook_receiver: WebhookReceiver, settings: Any
) -> None:
    settings.SANPO_WEBHOOK_MAX_ATTEMPTS = 3
    webhook_receiver.default_status = 503
    _endpoint(partner, webhook_receiver.url)

    (delivery,) = _emit(partner)
    second = services.webhook_attempt_delivery(delivery_id=str(delivery.pk), attempt=2)
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.PENDING
    assert second.retry_in is not None

    third = services.webhook_attempt_delivery(delivery_id=str(delivery.pk), attempt=3)

    assert not third.delivered
    assert third.retry_in is None
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.FAILED
    assert delivery.completed_at is not None
    assert _attempts(delivery) == [(1, 503), (2, 503), (3, 503)]
    assert len(webhook_receiver.requests) == 3
    # A stray task for a fourth attempt sends nothing.
    services.webhook_attempt_delivery(delivery_id=str(delivery.pk), attempt=4)
    assert len(webhook_receiver.requests) == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_a_duplicated_attempt_number_sends_nothing(
    partner: Partner, webhook_receiver: WebhookReceiver
) -> None:
    _endpoint(partner, webhook_receiver.url)
    webhook_receiver.answer(500)
    (delivery,) = _emit(partner)
    assert len(webhook_receiver.requests) == 1

    again = services.webhook_attempt_delivery(delivery_id=str(delivery.pk), attempt=1)
    ahead = services.webhook_attempt_delivery(delivery_id=str(delivery.pk), attempt=3)

    assert (again.delivered, again.retry_in) == (False, None)
    assert (ahead.delivered, ahead.retry_in) == (False, None)
    assert len(webhook_receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.attempt_count == 1
    assert _attempts(delivery) == [(1, 500)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_a_rolled_back_transaction_emits_nothing(
    partner: Partner, webhook_receiver: WebhookReceiver
) -> None:
    _endpoint(partner, webhook_receiver.url)

    def announce_a_change_that_fails() -> None:
        with transaction.atomic():
            deliveries = services.webhook_emit(
                partner=partner, event_type="api_key.issued", data={"api_key_id": "k-1"}
            )
            assert len(deliveries) == 1
            raise RuntimeError("the change being announced failed")

    with pytest.raises(RuntimeError):
        announce_a_change_that_fails()

    assert WebhookDelivery.objects.count() == 0
    assert webhook_receiver.requests == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_only_subscribed_endpoints_receive_an_event(
    partner: Partner, webhook_receiver: WebhookReceiver
) -> None:
    _endpoint(partner, f"{webhook_receiver.url}?for=keys", ["api_key.issued"])
    _endpoint(partner, f"{webhook_receiver.url}?for=status", ["partner.suspended"])

    deliveries = _emit(partner, "partner.suspended")

    assert len(deliveries) == 1
    assert [r.path for r in webhook_receiver.requests] == ["/hooks/sanpo?for=status"]
    assert WebhookDelivery.objects.filter(endpoint__url__endswith="for=keys").count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_a_disabled_endpoint_receives_nothing(
    partner: Partner, webhook_receiver: WebhookReceiver
) -> None:
    endpoint, _ = _endpoint(partner, webhook_receiver.url)
    services.webhook_endpoint_update(endpoint=endpoint, actor=Actor.system(), is_active=False)

    assert _emit(partner) == []
    assert webhook_receiver.requests == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_an_offboarded_partner_gets_nothing(
    partner: Partner, webhook_receiver: WebhookReceiver
) -> None:
    _endpoint(partner, webhook_receiver.url)
    webhook_receiver.answer(500)
    (pending,) = _emit(partner)
    assert len(webhook_receiver.requests) == 1

    services.partner_offboard(partner=partner, actor=Actor.system())
    partner.refresh_from_db()

    assert _emit(partner) == []
    retry = services.webhook_attempt_delivery(delivery_id=str(pending.pk), attempt=2)
    assert not retry.delivered
    assert len(webhook_receiver.requests) == 1
    last = WebhookAttempt.objects.get(delivery=pending, number=2)
    assert last.status_code is None
    assert "offboarded" in last.error


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_ping_through_the_api_reaches_the_receiver(
    partner_key: Key, webhook_receiver: WebhookReceiver
) -> None:
    client = client_for(partner_key)
    created = client.post(
        "/api/v1/webhook-endpoints",
        {"url": webhook_receiver.url, "events": ["api_key.revoked"]},
        format="json",
    ).json()

    response = client.post(f"/api/v1/webhook-endpoints/{created['id']}/ping")

    assert response.status_code == 202, response.content
    (received,) = webhook_receiver.requests
    assert received.headers["sanpo-event-type"] == "webhook.ping"
    assert json.loads(received.body)["data"] == {"endpoint_id": created["id"]}
    assert verify_signature(
        secret=created["secret"],
        header=received.headers["sanpo-signature"],
        event_id=received.headers["sanpo-event-id"],
        body=received.body,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_a_ping_whose_secret_is_under_a_removed_key_is_a_409_that_queues_nothing(
    partner: Partner, partner_key: Key, webhook_receiver: WebhookReceiver, settings: Any
) -> None:
    endpoint, _ = _endpoint(partner, webhook_receiver.url)
    settings.SANPO_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the old key dropped

    response = client_for(partner_key).post(f"/api/v1/webhook-endpoints/{endpoint.pk}/ping")

    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "data_key_unavailable"
    assert not WebhookDelivery.objects.filter(endpoint=endpoint).exists()
    assert webhook_receiver.requests == []
    (event,) = AuditEvent.objects.filter(action=AuditEvent.Action.DATA_KEY_UNAVAILABLE)
    assert (event.object_id, event.partner, event.outcome) == (str(endpoint.pk), partner, "denied")
    assert event.detail["location"] == "partners.WebhookSecret.secret"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_a_delivery_whose_secret_cannot_be_decrypted_fails_at_once_with_the_reason(
    partner: Partner, webhook_receiver: WebhookReceiver, settings: Any
) -> None:
    endpoint, _ = _endpoint(partner, webhook_receiver.url)
    settings.SANPO_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    (delivery,) = _emit(partner)  # the attempt runs on commit, in-process

    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.FAILED
    assert delivery.completed_at is not None
    (attempt,) = WebhookAttempt.objects.filter(delivery=delivery)
    assert "signing secret cannot be decrypted" in attempt.error
    assert webhook_receiver.requests == []
    (event,) = AuditEvent.objects.filter(action=AuditEvent.Action.DATA_KEY_UNAVAILABLE)
    assert (event.object_id, event.detail["delivery"]) == (str(endpoint.pk), str(delivery.pk))
    # The way out: a new secret with no overlap; the unreadable one is never read again.
    new_secret = services.webhook_endpoint_rotate_secret(
        endpoint=endpoint, actor=Actor.system(), overlap=timedelta(0)
    )
    assert services.webhook_signing_secrets(endpoint=endpoint) == [new_secret]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_a_delivery_to_an_ipv6_receiver_names_the_host_in_brackets(partner: Partner) -> None:
    receiver = WebhookReceiver(host="::1").start()
    try:
        _endpoint(partner, receiver.url)
        (delivery,) = _emit(partner)
    finally:
        receiver.stop()

    (received,) = receiver.requests
    assert received.headers["host"] == f"[::1]:{receiver.port}"
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.SUCCEEDED


# --- secret rotation --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_during_a_rotation_old_and_new_secrets_both_verify_then_only_the_new(
    partner: Partner, webhook_receiver: WebhookReceiver, settings: Any
) -> None:
    settings.SANPO_WEBHOOK_SECRET_OVERLAP_HOURS = 24
    endpoint, old_secret = _endpoint(partner, webhook_receiver.url)

    new_secret = services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=Actor.system())
    _emit(partner)

    assert new_secret != old_secret
    during = webhook_receiver.requests[-1]
    header = during.headers["sanpo-signature"]
    assert header.count("v1=") == 2
    for secret in (old_secret, new_secret):
        assert verify_signature(
            secret=secret,
            header=header,
            event_id=during.headers["sanpo-event-id"],
            body=during.body,
        )
    assert not verify_signature(
        secret="whsec_never-issued",
        header=header,
        event_id=during.headers["sanpo-event-id"],
        body=during.body,
    )

    # The overlap ends (as if 24 hours passed): the old secret stops signing.
    old = WebhookSecret.objects.filter(endpoint=endpoint, expires_at__isnull=False)
    assert old.count() == 1
    old.update(expires_at=timezone.now() - timedelta(seconds=1))
    _emit(partner)

    after = webhook_receiver.requests[-1]
    header = after.headers["sanpo-signature"]
    event_id = after.headers["sanpo-event-id"]
    assert header.count("v1=") == 1
    assert verify_signature(secret=new_secret, header=header, event_id=event_id, body=after.body)
    assert not verify_signature(
        secret=old_secret, header=header, event_id=event_id, body=after.body
    )


# --- SSRF -------------------------------------------------------------------------------------

REFUSED_ALWAYS = [
    "https://10.0.0.1/hook",
    "https://192.168.1.1/hook",
    "https://172.16.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "https://169.254.169.254/latest/meta-data/",
    "https://100.64.0.1/hook",
    "https://0.0.0.0/hook",
    "https://[::]/hook",
    "https://[fd00::1]/hook",
    "https://[fe80::1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://224.0.0.1/hook",
    "https://user:pass@8.8.8.8/hook",
    "https://user@8.8.8.8/hook",
    "ftp://8.8.8.8/hook",
    "file:///etc/passwd",
    "gopher://8.8.8.8:70/hook",
    "http://8.8.8.8/hook",  # plain http to a public host
    "https:///hook",
    "https://8.8.8.8:99999/hook",
    "https://host.invalid/hook",
]
REFUSED_LOOPBACK = [
    "https://127.0.0.1/hook",
    "http://127.0.0.1:8080/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://localhost/hook",
    "https://127.0.0.2/hook",
    "https://2130706433/hook",  # 127.0.0.1 as one decimal number
    "https://0x7f000001/hook",
]


@pytest.mark.parametrize("url", REFUSED_ALWAYS + REFUSED_LOOPBACK)
def test_resolve_target_refuses_internal_and_unsafe_urls(url: str, settings: Any) -> None:
    settings.SANPO_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(ApplicationError) as refused:
        resolve_target(url)
    assert refused.value.code == ErrorCode.WEBHOOK_URL_REFUSED
    assert refused.value.status == 400


@pytest.mark.parametrize("url", REFUSED_ALWAYS)
def test_resolve_target_refuses_internal_urls_even_when_loopback_is_allowed(
    url: str, settings: Any
) -> None:
    settings.SANPO_WEBHOOK_ALLOW_LOOPBACK = True
    with pytest.raises(ApplicationError) as refused:
        resolve_target(url)
    assert refused.value.code == ErrorCode.WEBHOOK_URL_REFUSED


def test_resolve_target_accepts_a_public_https_url(settings: Any) -> None:
    settings.SANPO_WEBHOOK_ALLOW_LOOPBACK = False
    target = resolve_target("https://8.8.8.8/hooks/sanpo?tenant=7")
    assert (target.scheme, target.host, target.port, target.address) == (
        "https",
        "8.8.8.8",
        443,
        "8.8.8.8",
    )
    assert target.path == "/hooks/sanpo?tenant=7"
    assert resolve_target("https://[2001:4860:4860::8888]:8443/").address == "2001:4860:4860::8888"


def test_loopback_over_http_is_accepted_only_when_allowed(settings: Any) -> None:
    settings.SANPO_WEBHOOK_ALLOW_LOOPBACK = True
    target = resolve_target("http://127.0.0.1:8080/hook")
    assert (target.address, target.port, target.path) == ("127.0.0.1", 8080, "/hook")
    assert resolve_target("http://[::1]:8080/hook").address == "::1"

    settings.SANPO_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(ApplicationError):
        resolve_target("http://127.0.0.1:8080/hook")


API_REFUSED = [
    "https://10.0.0.1/hook",
    "https://192.168.1.1/hook",
    "https://172.16.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "https://100.64.0.1/hook",
    "https://[::1]/hook",
    "http://127.0.0.1:8080/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://0.0.0.0/hook",
    "https://user:pass@8.8.8.8/hook",
    "ftp://8.8.8.8/hook",
    "http://8.8.8.8/hook",
]


@pytest.mark.parametrize("url", API_REFUSED)
def test_the_api_refuses_to_register_internal_and_unsafe_urls(
    url: str, partner_key: Key, settings: Any
) -> None:
    settings.SANPO_WEBHOOK_ALLOW_LOOPBACK = False

    response = client_for(partner_key).post(
        "/api/v1/webhook-endpoints", {"url": url, "events": ["api_key.issued"]}, format="json"
    )

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "webhook_url_refused"
    assert "url" in error["fields"]
    assert not WebhookEndpoint.objects.filter(partner=partner_key.partner).exists()


def test_the_api_registers_a_public_https_url(partner_key: Key, settings: Any) -> None:
    settings.SANPO_WEBHOOK_ALLOW_LOOPBACK = False

    response = client_for(partner_key).post(
        "/api/v1/webhook-endpoints",
        {"url": "https://8.8.8.8/hook", "events": ["api_key.issued"]},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["secret"].startswith("whsec_")
    assert WebhookEndpoint.objects.filter(partner=partner_key.partner).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_every_send_checks_the_target_again(
    partner: Partner, webhook_receiver: WebhookReceiver, settings: Any
) -> None:
    settings.SANPO_WEBHOOK_ALLOW_LOOPBACK = True
    _endpoint(partner, webhook_receiver.url)  # accepted while loopback is allowed

    settings.SANPO_WEBHOOK_ALLOW_LOOPBACK = False
    (delivery,) = _emit(partner)

    assert webhook_receiver.requests == []
    (refused,) = WebhookAttempt.objects.filter(delivery=delivery)
    assert refused.status_code is None
    assert "internal" in refused.error
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.PENDING

    settings.SANPO_WEBHOOK_ALLOW_LOOPBACK = True
    assert services.webhook_attempt_delivery(delivery_id=str(delivery.pk), attempt=2).delivered
    assert len(webhook_receiver.requests) == 1


# --- the partners app's own events ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_key_and_status_changes_are_announced_to_the_partner(
    partner: Partner, partner_key: Key, outsider: Partner, webhook_receiver: WebhookReceiver
) -> None:
    events = ["api_key.issued", "api_key.revoked", "partner.suspended", "partner.resumed"]
    _endpoint(partner, webhook_receiver.url, events)
    _endpoint(outsider, f"{webhook_receiver.url}?outsider", events)

    issued = client_for(partner_key).post(
        "/api/v1/api-keys", {"name": "job", "scopes": ["read"]}, format="json"
    )
    assert issued.status_code == 201
    client_for(partner_key).post(f"/api/v1/api-keys/{issued.json()['id']}/revoke")
    services.partner_suspend(partner=partner, actor=Actor.system())
    services.partner_resume(partner=partner, actor=Actor.system())

    received = [json.loads(r.body) for r in webhook_receiver.requests]
    assert [e["type"] for e in received] == events
    assert received[0]["data"]["api_key_id"] == issued.json()["id"]
    assert issued.json()["key"] not in json.dumps(received)  # the secret is never sent
    assert all(r.path == "/hooks/sanpo" for r in webhook_receiver.requests)  # not the outsider's
