"""A real Celery worker on the real broker delivers a webhook, retrying with backoff.

Skipped without CELERY_BROKER_URL. The worker runs in a thread of this process (celery's own
testing worker), so it reads the test's Django settings at run time and writes to the test
database; the test commits for real, so the on-commit hook hands the task to the broker.
"""

import time
from typing import Any

import pytest
from django.db import transaction

from partners import services
from partners.actors import Actor
from partners.models import Partner, WebhookAttempt, WebhookDelivery
from tests.conftest import WebhookReceiver, celery_worker

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

DEADLINE_SECONDS = 30


def _wait_until_finished(delivery: WebhookDelivery) -> WebhookDelivery:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        delivery.refresh_from_db()
        if delivery.state != WebhookDelivery.State.PENDING:
            return delivery
        time.sleep(0.1)
    return delivery


def test_a_worker_retries_with_exponential_backoff_until_the_receiver_recovers(
    partner: Partner, webhook_receiver: WebhookReceiver, settings: Any
) -> None:
    settings.SANPO_WEBHOOK_RETRY_BASE_SECONDS = 1
    settings.SANPO_WEBHOOK_MAX_ATTEMPTS = 5
    webhook_receiver.answer(503, 503)  # then 200
    services.webhook_endpoint_create(
        partner=partner, url=webhook_receiver.url, events=["api_key.issued"], actor=Actor.system()
    )

    with celery_worker():
        with transaction.atomic():
            (delivery,) = services.webhook_emit(
                partner=partner, event_type="api_key.issued", data={"api_key_id": "k-1"}
            )
        delivery = _wait_until_finished(delivery)

    assert delivery.state == WebhookDelivery.State.SUCCEEDED, (
        f"not delivered within {DEADLINE_SECONDS} s: {list(delivery.attempts.values())}"
    )
    attempts = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert [(a.number, a.status_code) for a in attempts] == [(1, 503), (2, 503), (3, 200)]
    assert delivery.attempt_count == 3
    first_gap = (attempts[1].started_at - attempts[0].started_at).total_seconds()
    second_gap = (attempts[2].started_at - attempts[1].started_at).total_seconds()
    assert first_gap >= 0.9  # base
    assert second_gap >= 1.9  # base * 2
    received = webhook_receiver.requests
    assert len(received) == 3
    assert {r.headers["sanpo-event-id"] for r in received} == {str(delivery.event_id)}
    assert received[2].received_at - received[1].received_at >= 1.9
