"""Without a broker (eager Celery, `make run`) a failed delivery's retry is made by
`manage.py deliver_webhooks`, which `make run` keeps running with `--every`: nothing else runs a
delayed task there, and the delivery stayed pending forever."""

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import OperationalError, transaction
from django.utils import timezone

from partners.actors import Actor
from partners.management.commands import deliver_webhooks
from partners.models import Partner, WebhookDelivery
from partners.services import webhook_deliveries_attempt_due, webhook_emit, webhook_endpoint_create
from tests.conftest import WebhookReceiver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]


def _failed_once(partner: Partner, receiver: WebhookReceiver) -> WebhookDelivery:
    """A delivery whose first attempt (made in-process at commit) the receiver refused."""
    webhook_endpoint_create(
        partner=partner, url=receiver.url, events=["api_key.issued"], actor=Actor.system()
    )
    receiver.answer(503)  # then 200
    with transaction.atomic():
        (delivery,) = webhook_emit(partner=partner, event_type="api_key.issued", data={"n": 1})
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempt_count) == (WebhookDelivery.State.PENDING, 1)
    return delivery


def test_a_retry_is_made_once_it_is_due_and_not_before(
    partner: Partner, webhook_receiver: WebhookReceiver, settings: Any
) -> None:
    settings.SANPO_WEBHOOK_RETRY_BASE_SECONDS = 30
    delivery = _failed_once(partner, webhook_receiver)

    early = webhook_deliveries_attempt_due()
    assert (early.attempted, early.delivered) == (0, 0)
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.PENDING

    due = webhook_deliveries_attempt_due(now=timezone.now() + timedelta(seconds=31))

    assert (due.attempted, due.delivered) == (1, 1)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempt_count) == (WebhookDelivery.State.SUCCEEDED, 2)
    assert len(webhook_receiver.requests) == 2
    # Asking again sends nothing more: the delivery is finished.
    assert webhook_deliveries_attempt_due(now=timezone.now() + timedelta(hours=1)).attempted == 0


def test_the_command_kept_running_by_make_run_delivers_due_retries(
    partner: Partner, webhook_receiver: WebhookReceiver, settings: Any, monkeypatch: Any
) -> None:
    settings.SANPO_WEBHOOK_RETRY_BASE_SECONDS = 0  # due at once
    delivery = _failed_once(partner, webhook_receiver)
    sleeps: list[float] = []

    def stop_after_the_first_round(seconds: float) -> None:
        sleeps.append(seconds)
        raise KeyboardInterrupt  # what Ctrl-C, or make stopping it, does

    monkeypatch.setattr(deliver_webhooks.time, "sleep", stop_after_the_first_round)
    out = io.StringIO()
    call_command("deliver_webhooks", every=5, stdout=out)

    assert sleeps == [5]
    assert "1 due deliveries attempted, 1 delivered." in out.getvalue()
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.SUCCEEDED


def test_a_busy_database_skips_a_round_and_the_next_round_delivers(
    partner: Partner, webhook_receiver: WebhookReceiver, settings: Any, monkeypatch: Any
) -> None:
    settings.SANPO_WEBHOOK_RETRY_BASE_SECONDS = 0
    delivery = _failed_once(partner, webhook_receiver)
    rounds: list[str] = []

    def busy_once(**kwargs: Any) -> Any:
        rounds.append("round")
        if len(rounds) == 1:
            raise OperationalError("database is locked")  # SQLite while make run seeds
        return webhook_deliveries_attempt_due(**kwargs)

    def sleep(seconds: float) -> None:
        if len(rounds) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(deliver_webhooks, "webhook_deliveries_attempt_due", busy_once)
    monkeypatch.setattr(deliver_webhooks.time, "sleep", sleep)
    err = io.StringIO()
    call_command("deliver_webhooks", every=5, stdout=io.StringIO(), stderr=err)

    assert "database is locked" in err.getvalue()
    assert len(rounds) == 2
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.SUCCEEDED
