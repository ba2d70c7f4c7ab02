"""Reads for partners, credentials and webhooks. List selectors return only what the
principal was granted, with related rows loaded in the same query."""

from typing import Any

from django.db.models import Q, QuerySet

from partners import pii
from partners.access import granted
from partners.models import (
    ApiKey,
    AuditEvent,
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
