"""A partner's webhook receiver that is slow, down, or answers 500 for an hour: each attempt
ends within the send timeout (a hung receiver holds no worker), deliveries back off
exponentially, and they drain once the receiver recovers. The hour passes by asking for the
attempts due at each scheduled time (``webhook_deliveries_attempt_due(now=...)``), as beat's
sweeper and ``manage.py deliver_webhooks`` do, so the test takes seconds."""

from __future__ import annotations

import itertools
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from partners.actors import Actor
from partners.models import Partner, WebhookAttempt, WebhookDelivery
from partners.services import webhook_deliveries_attempt_due, webhook_emit, webhook_endpoint_create
from tests.conftest import WebhookReceiver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]

DELIVERIES = 5


def _emit(partner: Partner, receiver: WebhookReceiver, count: int) -> list[WebhookDelivery]:
    webhook_endpoint_create(
        partner=partner, url=receiver.url, events=["api_key.issued"], actor=Actor.system()
    )
    deliveries = []
    for n in range(count):
        with transaction.atomic():
            deliveries += webhook_emit(partner=partner, event_type="api_key.issued", data={"n": n})
    return deliveries


def test_a_receiver_answering_500_for_an_hour_gets_every_event_once_it_recovers(
    partner: Partner, webhook_receiver: WebhookReceiver, settings: Any
) -> None:
    # The production defaults: 30 s doubling, 8 attempts (the last about 64 minutes in).
    settings.SANPO_WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.SANPO_WEBHOOK_MAX_ATTEMPTS = 8
    webhook_receiver.default_status = 500
    deliveries = _emit(partner, webhook_receiver, DELIVERIES)  # first attempts, refused
    # Each retry is scheduled from the moment of the attempt before it; the test makes the
    # attempts at once, so the hour is the sum of the waits the schedule asked for.
    waits: dict[Any, list[float]] = {d.pk: [] for d in deliveries}
    for _ in range(100):
        pending = WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING)
        if not pending.exists():
            break
        for delivery in pending:
            last = delivery.attempts.order_by("-number")[0]
            assert delivery.next_attempt_at is not None
            if len(waits[delivery.pk]) < delivery.attempt_count:
                waits[delivery.pk].append(
                    (delivery.next_attempt_at - last.started_at).total_seconds()
                )
        if min(sum(w) for w in waits.values()) >= 3600:
            webhook_receiver.default_status = 200  # back after an hour down
        due = max(d.next_attempt_at for d in pending if d.next_attempt_at is not None)
        webhook_deliveries_attempt_due(now=due + timedelta(seconds=1))
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"succeeded"}
    for delivery in deliveries:
        attempts = list(
            WebhookAttempt.objects.filter(delivery=delivery)
            .order_by("number")
            .values_list("status_code", flat=True)
        )
        # Refused until the hour was over, then delivered once, on the eighth and last attempt.
        assert attempts == [500] * 7 + [200], attempts
        # Backing off: each wait about twice the one before (30 s, 60 s, ... 1,920 s).
        scheduled = waits[delivery.pk]
        assert len(scheduled) == 7
        for before, after in itertools.pairwise(scheduled):
            assert 1.9 * before <= after <= 2.1 * before + 1, scheduled
        assert 3600 <= sum(scheduled) < 2 * 3600
    # Every event reached the receiver eight times: seven refusals and one delivery.
    assert len(webhook_receiver.requests) == DELIVERIES * 8


def test_a_hung_receiver_holds_an_attempt_no_longer_than_the_send_timeout(
    partner: Partner, webhook_receiver: WebhookReceiver, settings: Any
) -> None:
    settings.SANPO_WEBHOOK_TIMEOUT_SECONDS = 1
    webhook_receiver.hang()
    started = time.monotonic()
    (delivery,) = _emit(partner, webhook_receiver, 1)
    took = time.monotonic() - started
    assert took < 5, f"the attempt held the caller {took:.1f} s"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempt_count) == (WebhookDelivery.State.PENDING, 1)
    (attempt,) = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.status_code is None
    assert attempt.error  # the timeout, named
    assert attempt.duration_ms < 5000
    # Back to answering: the retry, when due, delivers.
    webhook_receiver.answer_again()
    assert delivery.next_attempt_at is not None
    webhook_deliveries_attempt_due(now=delivery.next_attempt_at + timedelta(seconds=1))
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.SUCCEEDED


def test_a_receiver_that_is_down_fails_an_attempt_at_once(
    partner: Partner, webhook_receiver: WebhookReceiver
) -> None:
    url = webhook_receiver.url
    webhook_receiver.stop()  # nothing listens on its port now: connection refused
    webhook_endpoint_create(
        partner=partner, url=url, events=["api_key.issued"], actor=Actor.system()
    )
    started = time.monotonic()
    with transaction.atomic():
        (delivery,) = webhook_emit(partner=partner, event_type="api_key.issued", data={})
    assert time.monotonic() - started < 2
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempt_count) == (WebhookDelivery.State.PENDING, 1)
    assert WebhookAttempt.objects.get(delivery=delivery).error
