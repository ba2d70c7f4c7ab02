"""The transactional outbox (``partners.tasking``): work a change queues is written with the
change and sent after its commit; a change that rolls back queues nothing; a broker that is
down leaves the work in the outbox and the write succeeds, and the relay sends it when the
broker is back; a process killed between its commit and the send loses nothing, and the
relay sends it once however often it runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from partners import services
from partners.actors import Actor
from partners.models import OutboxMessage, Partner, WebhookDelivery
from partners.services.outbox import outbox_purge_sent, outbox_relay
from partners.tasking import enqueue_on_commit
from tests.conftest import WebhookReceiver, celery_worker
from tests.fault_checks import assert_stores_consistent

PURGE = "partners.tasks.purge_expired_idempotency_keys"
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_a_change_that_rolls_back_queues_nothing() -> None:
    def change() -> None:
        with transaction.atomic():
            enqueue_on_commit(PURGE)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change()
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_committed_work_is_sent_and_marked(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(PURGE)
    message = OutboxMessage.objects.get()
    assert message.sent_at is not None
    with pytest.raises(KeyError):
        enqueue_on_commit("partners.tasks.no_such_task")


@pytest.mark.django_db
def test_the_relay_sends_what_was_left_once_and_leaves_the_young_alone() -> None:
    old = timezone.now() - timedelta(minutes=5)
    left = OutboxMessage.objects.create(task_name=PURGE, created_at=old)
    young = OutboxMessage.objects.create(task_name=PURGE)
    assert outbox_relay() == 1
    assert outbox_relay() == 0
    left.refresh_from_db()
    young.refresh_from_db()
    assert (left.sent_at is not None, left.attempts) == (True, 1)
    assert young.sent_at is None
    OutboxMessage.objects.filter(pk=left.pk).update(sent_at=old - timedelta(days=8))
    assert outbox_purge_sent() == 1


@contextmanager
def _broker_down() -> Iterator[None]:
    """The real broker out of reach: Celery publishes to a port nothing listens on (its
    ``CELERY_BROKER_URL`` environment variable wins over the settings)."""
    from config.celery import app

    real = os.environ.get("CELERY_BROKER_URL")
    pooled: Any = app  # Celery keeps its pools in private attributes: new ones per URL

    def use(url: str | None) -> None:
        if url is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = url
        pooled._pool = None
        pooled.amqp._producer_pool = None

    use("redis://127.0.0.1:1/0")
    try:
        yield
    finally:
        use(real)


def _delivered(delivery: WebhookDelivery, seconds: float = 30) -> WebhookDelivery:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        delivery.refresh_from_db()
        if delivery.state != WebhookDelivery.State.PENDING:
            break
        time.sleep(0.1)
    return delivery


def _age_outbox() -> None:
    OutboxMessage.objects.update(created_at=timezone.now() - timedelta(minutes=5))


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_writes_go_on_while_the_broker_is_down_and_their_work_follows_it_back(
    partner: Partner, webhook_receiver: WebhookReceiver
) -> None:
    services.webhook_endpoint_create(
        partner=partner, url=webhook_receiver.url, events=["api_key.issued"], actor=Actor.system()
    )
    started = time.monotonic()
    with _broker_down(), transaction.atomic():
        (delivery,) = services.webhook_emit(
            partner=partner, event_type="api_key.issued", data={"api_key_id": "k-1"}
        )
    assert time.monotonic() - started < 2  # the write does not wait on the broker's retries
    message = OutboxMessage.objects.get(task_name="partners.tasks.deliver_webhook")
    assert message.sent_at is None  # committed; its work waits in the outbox
    _age_outbox()
    with celery_worker():
        assert outbox_relay() == 1
        assert _delivered(delivery).state == WebhookDelivery.State.SUCCEEDED
    assert len(webhook_receiver.requests) == 1
    assert_stores_consistent()


SCRIPT = """
import os
import django
django.setup()
from django.db import transaction
from partners import services, tasking
from partners.models import Partner

def die(*args, **kwargs):
    os._exit(137)  # killed after the commit, before the broker heard of it

tasking.enqueue = die
partner = Partner.objects.get(slug=os.environ["SANPO_TEST_PARTNER"])
with transaction.atomic():
    services.webhook_emit(partner=partner, event_type="api_key.issued", data={"api_key_id": "k"})
"""


@pytest.mark.broker
@pytest.mark.postgres  # the killed process writes to the test database: a server's, shared
@pytest.mark.django_db(transaction=True)
def test_a_process_killed_between_commit_and_send_loses_nothing(
    partner: Partner, webhook_receiver: WebhookReceiver
) -> None:
    services.webhook_endpoint_create(
        partner=partner, url=webhook_receiver.url, events=["api_key.issued"], actor=Actor.system()
    )
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "SANPO_TEST_PARTNER": partner.slug,
        "SANPO_WEBHOOK_ALLOW_LOOPBACK": "true",
    }
    died = subprocess.run(  # noqa: S603
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    assert died.returncode == 137, died.stderr.decode()
    delivery = WebhookDelivery.objects.get()
    assert OutboxMessage.objects.get().sent_at is None  # committed, never sent
    _age_outbox()
    with celery_worker():
        assert outbox_relay() == 1
        assert _delivered(delivery).state == WebhookDelivery.State.SUCCEEDED
        assert outbox_relay() == 0  # sent once, however often the relay runs
    assert len(webhook_receiver.requests) == 1
    assert_stores_consistent()
