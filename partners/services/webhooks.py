import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import urllib3
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from partners.actors import Actor
from partners.crypto import UndecryptableError
from partners.errors import ApplicationError, validation_failed
from partners.models import (
    AuditEvent,
    Partner,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSecret,
)
from partners.netguard import resolve_target
from partners.services.audit import audit_record, audit_undecryptable
from partners.services.grants import partner_grant
from partners.signing import signature_header
from partners.tasking import enqueue_on_commit
from partners.webhook_events import EVENT_TYPES

logger = logging.getLogger(__name__)

MAX_ENDPOINTS_PER_PARTNER = 20
DELIVER_WEBHOOK = "partners.tasks.deliver_webhook"
# The delivery log's message for a receiver that answered with anything but a 2xx.
RECEIVER_ANSWERED = gettext_noop("The receiver answered %(status)s.")
_MAX_BACKOFF_SECONDS = 6 * 3600


def _new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def validate_event_types(events: list[str]) -> list[str]:
    """The sorted, de-duplicated subscription; raises ApplicationError(validation_failed)."""
    if not events:
        raise validation_failed("events", _("Subscribe to at least one event type."))
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise validation_failed(
            "events", _("Unknown event types: %(types)s.") % {"types": ", ".join(unknown)}
        )
    return sorted(set(events))


@dataclass(frozen=True)
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once


def webhook_endpoint_create(
    *, partner: Partner, url: str, events: list[str], description: str = "", actor: Actor
) -> CreatedEndpoint:
    """Register a receiver. Raises ApplicationError: webhook_url_refused for an internal
    address, validation_failed for unknown events or too many endpoints."""
    events = validate_event_types(events)
    resolve_target(url)
    with transaction.atomic():
        # Lock the partner row so two concurrent creations cannot both pass the limit.
        Partner.objects.select_for_update().filter(pk=partner.pk).first()
        if WebhookEndpoint.objects.filter(partner=partner).count() >= MAX_ENDPOINTS_PER_PARTNER:
            raise validation_failed(
                "url",
                _("A partner may register at most %(count)d endpoints.")
                % {"count": MAX_ENDPOINTS_PER_PARTNER},
            )
        endpoint = WebhookEndpoint(partner=partner, url=url, events=events, description=description)
        endpoint.full_clean()
        endpoint.save()
        secret = _new_secret()
        WebhookSecret.objects.create(endpoint=endpoint, secret=secret)
        audit_record(
            action=AuditEvent.Action.WEBHOOK_CREATED,
            actor=actor,
            partner=partner,
            target=endpoint,
            detail={"url": url, "events": events},
        )
        partner_grant(
            partner=partner, obj=endpoint, perms=("view", "change", "delete"), actor=actor
        )
    return CreatedEndpoint(endpoint=endpoint, secret=secret)


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    actor: Actor,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    changed: dict[str, Any] = {}
    if url is not None:
        resolve_target(url)
        changed["url"] = url
    if events is not None:
        changed["events"] = validate_event_types(events)
    if description is not None:
        changed["description"] = description
    if is_active is not None:
        changed["is_active"] = is_active
    if not changed:
        return endpoint
    with transaction.atomic():
        for field, value in changed.items():
            setattr(endpoint, field, value)
        endpoint.full_clean()
        endpoint.save(update_fields=list(changed))
        audit_record(
            action=AuditEvent.Action.WEBHOOK_UPDATED,
            actor=actor,
            partner=endpoint.partner,
            target=endpoint,
            detail={"changed": changed},
        )
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: Actor) -> None:
    with transaction.atomic():
        audit_record(
            action=AuditEvent.Action.WEBHOOK_DELETED,
            actor=actor,
            partner=endpoint.partner,
            target=endpoint,
            detail={"url": endpoint.url},
        )
        endpoint.delete()


def webhook_endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, actor: Actor, overlap: timedelta | None = None
) -> str:
    """Start signing with a new secret; live old secrets keep signing for ``overlap``.
    Returns the new secret (shown once)."""
    if overlap is None:
        overlap = timedelta(hours=settings.SANPO_WEBHOOK_SECRET_OVERLAP_HOURS)
    now = timezone.now()
    with transaction.atomic():
        WebhookSecret.objects.filter(endpoint=endpoint, expires_at__isnull=True).update(
            expires_at=now + overlap
        )
        WebhookSecret.objects.filter(endpoint=endpoint, expires_at__lte=now).delete()
        secret = _new_secret()
        WebhookSecret.objects.create(endpoint=endpoint, secret=secret)
        audit_record(
            action=AuditEvent.Action.WEBHOOK_SECRET_ROTATED,
            actor=actor,
            partner=endpoint.partner,
            target=endpoint,
            detail={"old_secrets_expire_at": (now + overlap).isoformat()},
        )
    return secret


def webhook_emit(
    *, partner: Partner, event_type: str, data: dict[str, Any], only: WebhookEndpoint | None = None
) -> list[WebhookDelivery]:
    """Queue ``event_type`` for every active endpoint of ``partner`` subscribed to it.

    Call it inside the transaction of the change it announces: the deliveries commit with
    that change and are handed to Celery only after the commit, so no event is sent for a
    change that rolled back, and none is lost for one that committed.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unregistered webhook event type {event_type!r}")
    if partner.status == Partner.Status.OFFBOARDED:
        return []
    endpoints = (
        [only]
        if only is not None
        else WebhookEndpoint.objects.filter(partner=partner, is_active=True)
    )
    event_id = uuid.uuid4()
    now = timezone.now()
    payload = {
        "id": str(event_id),
        "type": event_type,
        "created_at": now.isoformat(),
        "partner_id": str(partner.pk),
        "data": json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
    }
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                event_id=event_id,
                event_type=event_type,
                payload=payload,
                endpoint=endpoint,
                next_attempt_at=now,
            )
            for endpoint in endpoints
            if event_type in endpoint.events or event_type == "webhook.ping"
        ]
    )
    for delivery in deliveries:
        enqueue_on_commit(DELIVER_WEBHOOK, str(delivery.pk), 1)
    return deliveries


def webhook_signing_secrets(*, endpoint: WebhookEndpoint) -> list[str]:
    """The endpoint's live signing secrets, newest first. Raises UndecryptableError
    (DataKeyUnavailableError) when one is under a key no longer in SANPO_ENCRYPTION_KEYS;
    expired secrets are never read, so rotating with no overlap leaves an unreadable one
    behind."""
    live = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    try:
        rows = WebhookSecret.objects.filter(live, endpoint=endpoint).order_by("-created_at")
        return [row.secret for row in rows]
    except UndecryptableError as error:
        error.target = endpoint
        raise


def webhook_endpoint_ping(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a ``webhook.ping`` for this endpoint. Raises UndecryptableError, before anything
    is queued, when its signing secret cannot be read: the delivery could never be signed."""
    webhook_signing_secrets(endpoint=endpoint)
    (delivery,) = webhook_emit(
        partner=endpoint.partner,
        event_type="webhook.ping",
        data={"endpoint_id": str(endpoint.pk)},
        only=endpoint,
    )
    return delivery


@dataclass(frozen=True)
class AttemptOutcome:
    delivered: bool
    retry_in: float | None  # seconds until the next attempt, None when finished or skipped


def _backoff_seconds(attempt: int) -> float:
    base = settings.SANPO_WEBHOOK_RETRY_BASE_SECONDS
    return float(min(base * 2 ** (attempt - 1), _MAX_BACKOFF_SECONDS))


def _send(delivery: WebhookDelivery, body: bytes, signing_secrets: list[str]) -> tuple[int, str]:
    target = resolve_target(delivery.endpoint.url)
    timestamp = int(time.time())
    # An IPv6 literal goes in brackets, and only the scheme's own port may be left out.
    host = f"[{target.host}]" if ":" in target.host else target.host
    default_port = 443 if target.scheme == "https" else 80
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Sanpo-Webhooks/1.0",
        "Host": host if target.port == default_port else f"{host}:{target.port}",
        "Sanpo-Event-Id": str(delivery.event_id),
        "Sanpo-Event-Type": delivery.event_type,
        "Sanpo-Delivery-Id": str(delivery.pk),
        "Sanpo-Timestamp": str(timestamp),
        "Sanpo-Signature": signature_header(
            secrets=signing_secrets,
            event_id=str(delivery.event_id),
            timestamp=timestamp,
            body=body,
        ),
    }
    timeout = urllib3.Timeout(total=settings.SANPO_WEBHOOK_TIMEOUT_SECONDS)
    pool: urllib3.HTTPConnectionPool
    # Connect to the address we checked, not to whatever the name resolves to now.
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            port=target.port,
            timeout=timeout,
            retries=False,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            target.address, port=target.port, timeout=timeout, retries=False
        )
    with pool:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers=headers,
            redirect=False,
            preload_content=False,
        )
        excerpt = response.read(500, decode_content=False).decode("utf-8", "replace")
        response.release_conn()
    return response.status, excerpt


@dataclass
class _Attempt:
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""
    unreadable: UndecryptableError | None = None  # a signing secret that cannot be read


def _attempt(delivery: WebhookDelivery) -> _Attempt:
    if delivery.endpoint.partner.status == Partner.Status.OFFBOARDED:
        return _Attempt(error=gettext_noop("The partner was offboarded."))
    if not delivery.endpoint.is_active:
        return _Attempt(error=gettext_noop("The endpoint is disabled."))
    try:
        signing_secrets = webhook_signing_secrets(endpoint=delivery.endpoint)
    except UndecryptableError as exc:
        # No retry can sign it until an operator restores the key or the secret is rotated.
        return _Attempt(
            error=gettext_noop(
                "Nothing was sent: the endpoint's signing secret cannot be decrypted with any "
                "configured key. Rotate the secret with no overlap, or restore the key."
            ),
            unreadable=exc,
        )
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    try:
        status_code, excerpt = _send(delivery, body, signing_secrets)
    except ApplicationError as exc:
        return _Attempt(error=exc.message)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return _Attempt(error=f"{type(exc).__name__}: {exc}")
    return _Attempt(status_code=status_code, excerpt=excerpt)


def webhook_attempt_delivery(*, delivery_id: str, attempt: int) -> AttemptOutcome:
    """Make attempt number ``attempt`` of a delivery, log it, and say when to retry.

    The attempt is claimed with a conditional UPDATE first, so a duplicated task message
    (a broker redelivery, or the sweeper re-queuing a stalled delivery) never sends twice. A
    worker that dies after claiming leaves the delivery pending and due, for the sweeper. A
    signing secret that cannot be decrypted fails the delivery at once, with the reason, and
    is recorded as a security event.
    """
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        state=WebhookDelivery.State.PENDING,
        attempt_count=attempt - 1,
    ).update(attempt_count=F("attempt_count") + 1, next_attempt_at=timezone.now())
    if not claimed:
        return AttemptOutcome(delivered=False, retry_in=None)
    delivery = WebhookDelivery.objects.select_related("endpoint__partner").get(pk=delivery_id)
    now = timezone.now()
    started = time.monotonic()
    # The delivery log is written in English whatever language the worker runs in (a URL
    # refused at send time speaks the active one); the console translates its fixed messages.
    with translation.override("en"):
        result = _attempt(delivery)
    duration_ms = int((time.monotonic() - started) * 1000)
    delivered = result.status_code is not None and 200 <= result.status_code < 300
    error = result.error
    if not error and not delivered:
        error = RECEIVER_ANSWERED % {"status": result.status_code}
    gave_up = not delivered and (
        attempt >= settings.SANPO_WEBHOOK_MAX_ATTEMPTS or result.unreadable is not None
    )
    retry_in = None if delivered or gave_up else _backoff_seconds(attempt)
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            delivery_created_at=delivery.created_at,  # its partition key (README)
            number=attempt,
            started_at=now,
            duration_ms=duration_ms,
            status_code=result.status_code,
            error=error[:500],
            response_excerpt=result.excerpt[:500],
        )
        if result.unreadable is not None:
            audit_undecryptable(
                error=result.unreadable,
                actor=Actor.system(),
                partner=delivery.endpoint.partner,
                target=delivery.endpoint,
                detail={"delivery": str(delivery.pk)},
            )
        if delivered:
            delivery.state = WebhookDelivery.State.SUCCEEDED
            delivery.completed_at = timezone.now()
        elif gave_up:
            delivery.state = WebhookDelivery.State.FAILED
            delivery.completed_at = timezone.now()
        else:
            assert retry_in is not None
            delivery.next_attempt_at = timezone.now() + timedelta(seconds=retry_in)
        delivery.save(update_fields=["state", "completed_at", "next_attempt_at"])
    if not delivered:
        logger.info("Webhook delivery %s attempt %s failed: %s", delivery_id, attempt, error)
    return AttemptOutcome(delivered=delivered, retry_in=retry_in)
