"""A real Celery worker, on the real broker, killed (SIGKILL) while a partner's receiver holds
its webhook delivery unanswered: the broker hands the task to the next worker by itself, which
finds the attempt already claimed and sends nothing again; the sweeper of stalled deliveries
makes the next attempt, and exactly one successful delivery is recorded."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from partners import services
from partners.actors import Actor
from partners.models import Partner, WebhookAttempt, WebhookDelivery
from partners.tasks import STALLED_AFTER, requeue_stalled_webhook_deliveries
from tests.conftest import WebhookReceiver
from tests.fault_checks import assert_stores_consistent
from tests.worker_process import (
    broker_backlog,
    broker_empty,
    sigkill,
    start_worker,
    stop_worker,
    tasks_succeeded,
    wait_until,
    worker_process,
)

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.django_db(transaction=True)]
DELIVER = "partners.tasks.deliver_webhook"


def test_a_worker_killed_mid_delivery_leaves_one_successful_delivery(
    tmp_path: Path, partner: Partner, webhook_receiver: WebhookReceiver
) -> None:
    broker_empty()
    services.webhook_endpoint_create(
        partner=partner, url=webhook_receiver.url, events=["api_key.issued"], actor=Actor.system()
    )
    webhook_receiver.hang()
    first_log = tmp_path / "first.log"
    worker = start_worker(first_log, visibility_timeout=1)
    try:
        with transaction.atomic():  # sent to the broker when this commits
            (delivery,) = services.webhook_emit(
                partner=partner, event_type="api_key.issued", data={"api_key_id": "k-1"}
            )
        wait_until(lambda: len(webhook_receiver.requests) == 1, 60, log=first_log)
        sigkill(worker)  # the request sent, its answer not yet read
    finally:
        stop_worker(worker)
        webhook_receiver.answer_again()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempt_count) == (WebhookDelivery.State.PENDING, 1)
    assert not WebhookAttempt.objects.exists()
    assert broker_backlog() == (0, 1)  # taken, never acknowledged: the broker still holds it

    second_log = tmp_path / "second.log"
    with worker_process(second_log, visibility_timeout=1):
        wait_until(lambda: tasks_succeeded(second_log, DELIVER) == 1, 40, log=second_log)
        # The redelivered attempt found itself claimed by the dead worker: nothing sent again.
        assert len(webhook_receiver.requests) == 1
        delivery.refresh_from_db()
        assert (delivery.state, delivery.attempt_count) == (WebhookDelivery.State.PENDING, 1)

        # Ten minutes on, beat's sweeper finds the delivery stalled and queues its next attempt.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() - STALLED_AFTER - timedelta(minutes=1)
        )
        requeue_stalled_webhook_deliveries.delay()
        wait_until(lambda: tasks_succeeded(second_log, DELIVER) == 2, 30, log=second_log)
    assert broker_backlog() == (0, 0)

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempt_count) == (WebhookDelivery.State.SUCCEEDED, 2)
    (attempt,) = WebhookAttempt.objects.filter(delivery=delivery)
    assert (attempt.number, attempt.status_code) == (2, 200)
    # The receiver saw the event twice (the first answer never read), with one event id to
    # tell the repeat by.
    first, second = (json.loads(request.body) for request in webhook_receiver.requests)
    assert first == second
    assert first["type"] == "api_key.issued"
    assert_stores_consistent()
    broker_empty()
