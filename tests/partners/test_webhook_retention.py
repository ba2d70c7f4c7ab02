"""Webhook deliveries are kept SANPO_WEBHOOK_DELIVERY_RETENTION_DAYS, then the daily task takes
the finished ones away with their attempts; a pending one stays whatever its age. Runs on SQLite
(rows deleted) and PostgreSQL (here the moved rows sit in the default partition, so also rows;
whole months: tests/partners/test_webhook_partitions.py)."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from partners import services
from partners.actors import Actor
from partners.models import Partner, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from partners.tasks import retain_webhook_deliveries

pytestmark = pytest.mark.django_db


def endpoint_for(partner: Partner) -> WebhookEndpoint:
    return services.webhook_endpoint_create(
        partner=partner, url="https://8.8.8.8/hook", events=["api_key.issued"], actor=Actor.system()
    ).endpoint


def deliver(endpoint: WebhookEndpoint, *, finished: bool) -> WebhookDelivery:
    """A delivery through the services; ``finished``: given up after one attempt (the endpoint
    is disabled for it, so nothing goes over the network), else pending with none."""
    (delivery,) = services.webhook_emit(
        partner=endpoint.partner, event_type="api_key.issued", data={}, only=endpoint
    )
    if finished:
        services.webhook_endpoint_update(endpoint=endpoint, is_active=False, actor=Actor.system())
        services.webhook_attempt_delivery(delivery_id=str(delivery.pk), attempt=1)
        services.webhook_endpoint_update(endpoint=endpoint, is_active=True, actor=Actor.system())
    delivery.refresh_from_db()
    return delivery


def move(delivery: WebhookDelivery, created_at: datetime) -> None:
    """Put a delivery and its attempts at another time, as if written then (PostgreSQL moves
    the rows into the partitions of the new month)."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=created_at)
    WebhookAttempt.objects.filter(delivery=delivery).update(delivery_created_at=created_at)
    if connection.vendor == "postgresql":
        # Run the deferred foreign-key checks now, as a commit would: the daily task only
        # ever sees committed rows (and a table with checks pending cannot be altered).
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # as they were, for the next move


@pytest.fixture(autouse=True)
def _one_attempt(settings: Any) -> None:
    settings.SANPO_WEBHOOK_MAX_ATTEMPTS = 1


def test_the_attempt_carries_its_deliverys_created_at(partner: Partner) -> None:
    delivery = deliver(endpoint_for(partner), finished=True)

    (attempt,) = WebhookAttempt.objects.filter(delivery=delivery)
    assert delivery.state == WebhookDelivery.State.FAILED
    assert attempt.delivery_created_at == delivery.created_at


def test_finished_deliveries_past_retention_go_with_their_attempts_pending_and_recent_stay(
    partner: Partner, settings: Any
) -> None:
    endpoint = endpoint_for(partner)
    old = timezone.now() - timedelta(days=settings.SANPO_WEBHOOK_DELIVERY_RETENTION_DAYS + 2)
    expired, stuck, recent = (deliver(endpoint, finished=f) for f in (True, False, True))
    move(expired, old)
    move(stuck, old)
    assert WebhookAttempt.objects.filter(delivery=expired).count() == 1

    result = retain_webhook_deliveries()

    assert result["deleted"] == 1
    assert result["dropped"] == []  # the moved rows sit in no month partition of their own
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {stuck.pk, recent.pk}
    assert not WebhookAttempt.objects.filter(delivery_id=expired.pk).exists()
    assert WebhookAttempt.objects.filter(delivery=recent).count() == 1
    assert retain_webhook_deliveries()["deleted"] == 0


def test_a_delivery_just_inside_retention_stays(partner: Partner, settings: Any) -> None:
    endpoint = endpoint_for(partner)
    kept = deliver(endpoint, finished=True)
    move(kept, timezone.now() - timedelta(days=settings.SANPO_WEBHOOK_DELIVERY_RETENTION_DAYS - 1))

    assert services.webhook_deliveries_retain().deleted == 0
    assert WebhookDelivery.objects.filter(pk=kept.pk).exists()
