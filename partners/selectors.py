"""Reads for partners, credentials and webhooks. List selectors return only what the
principal was granted, with related rows loaded in the same query."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from partners import pii
from partners.access import granted
from partners.models import (
    ApiKey,
    AuditEvent,
    IdempotencyKey,
    MemberAccount,
    MemberImport,
    Partner,
    StaffPreference,
    WebhookDelivery,
    WebhookEndpoint,
)
from partners.normalize import InvalidValueError, normalize_email, normalize_phone


def partner_list(*, principal: Partner) -> "QuerySet[Partner]":
    return granted(principal, Partner.objects.all())


def api_key_list(*, principal: Partner) -> "QuerySet[ApiKey]":
    return granted(principal, ApiKey.objects.filter(partner=principal).select_related("partner"))


def webhook_endpoint_list(*, principal: Partner) -> "QuerySet[WebhookEndpoint]":
    return granted(principal, WebhookEndpoint.objects.filter(partner=principal))


def webhook_delivery_list(*, endpoint: WebhookEndpoint) -> "QuerySet[WebhookDelivery]":
    """Deliveries of an endpoint the caller was granted (see access_webhook_endpoint_by_id).

    Deliveries are high-volume children: they are reached through their granted parent rather
    than granted one by one.
    """
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("endpoint")
        .prefetch_related("attempts")
    )


def audit_event_list(*, partner: Partner | None = None) -> "QuerySet[AuditEvent]":
    events = AuditEvent.objects.select_related("actor_user", "actor_api_key", "partner")
    return events.filter(partner=partner) if partner is not None else events


# Columns that are safe to read without decrypting: lists never load ciphertexts.
MEMBER_CLEAR_FIELDS = (
    "id",
    "partner",
    "member_number",
    "kind",
    "status",
    *MemberAccount.SEGMENT_FIELDS,
    "created_at",
    "updated_at",
)


def member_list(*, partner: Partner) -> QuerySet[MemberAccount]:
    """A partner's own member accounts in member-number order, without personal data columns
    (the API narrows them with its filters)."""
    members = MemberAccount.objects.filter(partner=partner).only(*MEMBER_CLEAR_FIELDS)
    return members.order_by("member_number")


def member_find_by_contact(
    *, email: str = "", phone: str = "", partner: Partner | None = None
) -> QuerySet[MemberAccount]:
    """Accounts whose e-mail or phone is the given one, found through the keyed blind indexes
    (never by decrypting and scanning). Values are normalised as on input; a value that cannot
    be an e-mail or phone finds nothing. Each account is indexed under one configured key, and
    a key rotation may be half-way, so every configured key is asked.
    """
    try:
        email_norm = normalize_email(email) if email else ""
        phone_norm = normalize_phone(phone) if phone else ""
    except InvalidValueError:
        return MemberAccount.objects.none()
    match = Q()
    for key_id in pii.index_key_ids():
        indexer = pii.BlindIndexer(key_id)
        if email_norm:
            match |= Q(index_key_id=key_id, email_index=indexer.email(email_norm))
        if phone_norm:
            match |= Q(index_key_id=key_id, phone_index=indexer.phone(phone_norm))
    if not match:
        return MemberAccount.objects.none()
    members = MemberAccount.objects.filter(match).only(*MEMBER_CLEAR_FIELDS)
    if partner is not None:
        members = members.filter(partner=partner)
    return members.select_related("partner").order_by("partner__slug", "member_number")


def member_import_list(*, partner: Partner) -> QuerySet[MemberImport]:
    return MemberImport.objects.filter(partner=partner).select_related("partner")


def staff_language_of(user: Any) -> str | None:
    """The language a signed-in person saved (``staff_language_set``), or None: one query by
    primary key, for every page they read."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    language: str | None = (
        StaffPreference.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    )
    return language


@dataclass(frozen=True)
class IdempotencyProblem:
    """Records of one kind of damage: how many, and the ids of the first ``SHOWN_IDS``."""

    problem: str
    count: int
    ids: list[int]


SHOWN_IDS = 50
# The purge runs hourly, so a key lives up to an hour past its TTL; a second hour covers a
# purge that is running or waits behind a busy worker. Older than that, the purge has stopped.
_PURGE_SLACK = timedelta(hours=2)


def _idempotency_damage(now: datetime) -> dict[str, Q]:
    """Each invariant of an IdempotencyKey row, as the condition that breaks it.

    Rows are written only by partners.services.idempotency: claimed as a POST with a digest
    and nothing else; completed with a final answer (a success, or a refusal other than a
    rate limit: server errors are released, never stored), its body (none for a 204) and
    its time; or deleted. Either way the hourly purge removes them after the TTL.
    """
    completed = Q(state=IdempotencyKey.State.COMPLETED)
    in_progress = Q(state=IdempotencyKey.State.IN_PROGRESS)
    # A body of None is stored as SQL NULL; JSON null would be a body of None written by hand.
    no_body = Q(response_body__isnull=True) | Q(response_body=None)
    ttl = timedelta(hours=settings.SANPO_IDEMPOTENCY_KEY_TTL_HOURS)
    return {
        "unknown state": ~(completed | in_progress),
        "not a POST": ~Q(method="POST"),
        "key not of the accepted form": ~Q(key__regex=IdempotencyKey.KEY_PATTERN),
        "path not absolute": ~Q(path__startswith="/"),
        "request digest missing or not SHA-256 hex": ~Q(request_digest__regex=r"^[0-9a-f]{64}$"),
        "completed without a response status": completed & Q(response_status=None),
        "completed with a status never stored (5xx, 429 or not HTTP)": completed
        & (Q(response_status__lt=200) | Q(response_status__gte=500) | Q(response_status=429)),
        "completed without a response body": completed & no_body & ~Q(response_status=204),
        "completed without a completion time": completed & Q(completed_at=None),
        "completed before it was created": completed & Q(completed_at__lt=F("created_at")),
        "in progress with a stored response": in_progress
        & ~(Q(response_status=None) & Q(response_body__isnull=True) & Q(completed_at=None)),
        "created in the future": Q(created_at__gt=now + timedelta(minutes=5)),
        "outlived its TTL (the purge is not running)": Q(created_at__lt=now - ttl - _PURGE_SLACK),
    }


def idempotency_records_verify(*, now: datetime | None = None) -> list[IdempotencyProblem]:
    """Check every stored Idempotency-Key record against the invariants its writers keep.

    Returns one entry per broken invariant (none when all hold), each with the count of rows
    and the ids of the first ``SHOWN_IDS`` in id order. One query per invariant, so its cost
    does not grow with a row-by-row loop.
    """
    problems = []
    for problem, damaged in _idempotency_damage(now or timezone.now()).items():
        rows = IdempotencyKey.objects.filter(damaged).order_by("pk")
        ids = list(rows.values_list("pk", flat=True)[:SHOWN_IDS])
        if ids:
            count = len(ids) if len(ids) < SHOWN_IDS else rows.count()
            problems.append(IdempotencyProblem(problem=problem, count=count, ids=ids))
    return problems
