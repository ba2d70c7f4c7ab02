"""Reads for partners, credentials and webhooks. List selectors return only what the
principal was granted, with related rows loaded in the same query."""

from django.db.models import QuerySet

from partners.access import granted
from partners.models import ApiKey, AuditEvent, Partner, WebhookDelivery, WebhookEndpoint


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
