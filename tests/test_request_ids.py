"""The request id (``partners.request_ids``): answered in ``X-Request-ID``, kept when the caller's
is well formed, on every log line written for the request, and on those of the tasks it queued,
whether they run in-process, in a worker over the broker, or late through the outbox relay."""

import json
import logging
import re
import time
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.module_loading import import_string

from partners import services
from partners.actors import Actor
from partners.models import OutboxMessage, Partner, WebhookDelivery, WebhookEndpoint
from partners.request_ids import request_id_bound
from partners.services.outbox import outbox_relay
from partners.tasks import purge_expired_idempotency_keys as purge
from tests.conftest import Key, WebhookReceiver, celery_worker, client_for
from tests.log_capture import console_output

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
FAILED_DELIVERY = "Webhook delivery"  # partners.services.webhooks logs a failed attempt
PURGE = "partners.tasks.purge_expired_idempotency_keys"


def test_a_well_formed_request_id_is_answered_as_sent() -> None:
    sent = "req-2026.12.06:abc_XYZ-0123"
    response = Client().get("/health/live/", HTTP_X_REQUEST_ID=sent)
    assert response["X-Request-ID"] == sent


@pytest.mark.parametrize(
    "sent",
    [
        None,
        "",
        "has space",
        'quote"d',
        "line\nbreak",
        "<script>",
        "日本語",
        "x" * 129,
    ],
)
def test_a_missing_or_malformed_request_id_is_replaced_by_a_new_one(sent: str | None) -> None:
    headers = {} if sent is None else {"X-Request-ID": sent}
    first = Client().get("/health/live/", headers=headers)["X-Request-ID"]
    second = Client().get("/health/live/", headers=headers)["X-Request-ID"]
    assert UUID4.fullmatch(first), first
    assert first != second


def test_the_longest_request_id_accepted_is_128_characters() -> None:
    sent = "a" * 128
    assert Client().get("/health/live/", HTTP_X_REQUEST_ID=sent)["X-Request-ID"] == sent


@pytest.mark.django_db
def test_the_log_lines_of_a_request_carry_its_id(partner_key: Key) -> None:
    with console_output() as output:
        response = client_for(partner_key).get(
            "/api/v1/api-keys/not-a-key", HTTP_X_REQUEST_ID="find-me-1"
        )
    assert response.status_code == 404
    lines = output.getvalue().splitlines()
    assert lines, "the 404 was not logged"
    assert all("[find-me-1]" in line for line in lines), lines


def test_json_lines_name_the_request_id(settings: Any) -> None:
    config = dict(settings.LOGGING["formatters"]["json"])
    formatter = import_string(config.pop("()"))(**config)
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    from tests.log_capture import console_handler

    for log_filter in console_handler().filters:
        handler.addFilter(log_filter)
    record = logging.LogRecord("sanpo.test", logging.WARNING, __file__, 1, "%s 円", ("千",), None)
    with request_id_bound("json-1"):
        handler.filter(record)
    line = json.loads(formatter.format(record))
    assert line["request_id"] == "json-1"
    assert (line["level"], line["logger"], line["message"]) == ("WARNING", "sanpo.test", "千 円")
    assert line["time"].endswith("+00:00")


def _failing_endpoint(partner: Partner, receiver: WebhookReceiver) -> WebhookEndpoint:
    receiver.default_status = 500
    return services.webhook_endpoint_create(
        partner=partner, url=receiver.url, events=["api_key.issued"], actor=Actor.system()
    ).endpoint


def _issue_key(partner_key: Key, request_id: str) -> None:
    response = client_for(partner_key).post(
        "/api/v1/api-keys",
        {"name": "job", "scopes": ["read"]},
        format="json",
        HTTP_X_REQUEST_ID=request_id,
    )
    assert response.status_code == 201, response.content


def _delivery_failures(output: str) -> list[str]:
    return [line for line in output.splitlines() if FAILED_DELIVERY in line]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_a_task_queued_by_a_request_logs_under_its_id(
    partner: Partner, partner_key: Key, webhook_receiver: WebhookReceiver
) -> None:
    _failing_endpoint(partner, webhook_receiver)
    with console_output() as output:
        _issue_key(partner_key, "write-1")
    assert len(webhook_receiver.requests) == 1
    failures = _delivery_failures(output.getvalue())
    assert failures, output.getvalue()
    assert all("[write-1]" in line for line in failures), failures
    assert OutboxMessage.objects.get().request_id == "write-1"


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_celery")
def test_the_relay_sends_a_late_message_under_the_id_of_its_request(
    partner: Partner, webhook_receiver: WebhookReceiver
) -> None:
    endpoint = _failing_endpoint(partner, webhook_receiver)
    delivery = WebhookDelivery.objects.create(
        event_id="6f1a4f7e-8a47-4b8b-9f6c-5a0f1c2d3e4f",
        event_type="api_key.issued",
        payload={},
        endpoint=endpoint,
    )
    OutboxMessage.objects.create(
        task_name="partners.tasks.deliver_webhook",
        args=[str(delivery.pk), 1],
        request_id="queued-long-ago",
        created_at=timezone.now() - timedelta(minutes=5),
    )
    with console_output() as output, request_id_bound("the-relay-itself"):
        assert outbox_relay() == 1
    failures = _delivery_failures(output.getvalue())
    assert failures, output.getvalue()
    assert all("[queued-long-ago]" in line for line in failures), failures


def _ran(line: str, task: str) -> bool:
    """Whether ``line`` is Celery's record of the task ``<name>[<id>]`` having run (written
    inside the run)."""
    return task in line and " succeeded in " in line


def _wait_until_run(output: Any, task: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(_ran(line, task) for line in output.getvalue().splitlines()):
            return
        time.sleep(0.1)


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_the_task_under_the_id_of_the_request_that_queued_it(
    partner: Partner, partner_key: Key, webhook_receiver: WebhookReceiver, settings: Any
) -> None:
    settings.SANPO_WEBHOOK_MAX_ATTEMPTS = 1  # one attempt, then given up: nothing left queued
    _failing_endpoint(partner, webhook_receiver)
    with celery_worker(), console_output() as output:  # the worker sets Django up again
        _issue_key(partner_key, "over-the-broker")
        delivery = WebhookDelivery.objects.get()
        deadline = time.monotonic() + 30
        while delivery.state == WebhookDelivery.State.PENDING and time.monotonic() < deadline:
            time.sleep(0.1)
            delivery.refresh_from_db()
        # Then a task queued by no request: the worker has unbound the last one's id.
        unrelated = f"{PURGE}[{purge.delay().id}]"
        _wait_until_run(output, unrelated)
    assert delivery.state == WebhookDelivery.State.FAILED
    # (The broker may hold other tests' messages: only this test's tasks are looked at.)
    failures = [line for line in _delivery_failures(output.getvalue()) if str(delivery.pk) in line]
    assert failures, output.getvalue()
    assert all("[over-the-broker]" in line for line in failures), failures
    (purged,) = [line for line in output.getvalue().splitlines() if _ran(line, unrelated)]
    assert "[-]" in purged
