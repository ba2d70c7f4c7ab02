"""A real Celery worker, on the real broker, killed (SIGKILL) in the middle of the nightly coin
expiry: nothing it wrote survives, the broker hands the task to the next worker by itself
(late acknowledgement; no test calls it again), and the coins expire exactly once, with one
webhook to their issuer.

The worker is held mid-task without touching its code: the test takes a SHARE lock on the
audit table, so the expiry, having posted the ledger transaction and emptied the lots, waits at
its audit row, still inside its transaction, where the test kills it."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from federation.coins.audit import CoinAuditAction
from federation.coins.models import CoinLot, CoinTransaction
from federation.coins.selectors import balance_of
from federation.coins.services import Grant, coins_earn
from federation.tasks import expire_coins
from partners import services as partner_services
from partners.actors import Actor
from partners.models import AuditEvent, Person, WebhookDelivery
from tests.conftest import WebhookReceiver
from tests.factories import make_partner
from tests.fault_checks import assert_stores_consistent
from tests.worker_process import (
    backend_gone,
    broker_backlog,
    broker_empty,
    lock_waiter,
    sigkill,
    start_worker,
    stop_worker,
    wait_until,
    worker_process,
)

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.django_db(transaction=True)]
SYSTEM = Actor.system()
EXPIRE = CoinTransaction.Kind.EXPIRE


def _expired_audits() -> int:
    return AuditEvent.objects.filter(action=CoinAuditAction.EXPIRED).count()


def test_a_worker_killed_mid_expiry_is_replaced_and_the_coins_expire_once(
    tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    broker_empty()
    issuer, other = make_partner("coin-a"), make_partner("coin-b")
    partner_services.webhook_endpoint_create(
        partner=issuer, url=webhook_receiver.url, events=["coins.expired"], actor=SYSTEM
    )
    yesterday, later = timezone.now() - timedelta(days=1), timezone.now() + timedelta(days=30)
    people = [Person.objects.create() for _ in range(3)]
    for n, person in enumerate(people, start=1):
        coins_earn(Grant(person, issuer, 10 * n, Decimal(1), expires_at=yesterday), actor=SYSTEM)
        coins_earn(Grant(person, other, 5, Decimal(1), expires_at=later), actor=SYSTEM)

    holder: Any = connections.create_connection("default")
    holder.set_autocommit(False)
    with holder.cursor() as cursor:
        cursor.execute("LOCK TABLE partners_auditevent IN SHARE MODE")
    first_log = tmp_path / "first.log"
    worker = start_worker(first_log, visibility_timeout=1)
    try:
        expire_coins.delay()  # as beat sends it: straight to the broker
        wait_until(lambda: lock_waiter("partners_auditevent"), 60, log=first_log)
        waiting = lock_waiter("partners_auditevent")
        sigkill(worker)
    finally:
        stop_worker(worker)
        holder.rollback()
        holder.close()
    assert waiting is not None
    # The dead worker's session, let past the lock, finds its client gone and rolls back.
    wait_until(lambda: backend_gone(waiting), 30)
    assert not CoinTransaction.objects.filter(kind=EXPIRE).exists()
    assert sorted(CoinLot.objects.values_list("remaining", flat=True)) == [5, 5, 5, 10, 20, 30]
    assert _expired_audits() == 0
    assert broker_backlog() == (0, 1)  # taken, never acknowledged: the broker still holds it

    second_log = tmp_path / "second.log"
    with worker_process(second_log, visibility_timeout=1):
        wait_until(lambda: _expired_audits() == 1, 40, log=second_log)
        wait_until(
            lambda: WebhookDelivery.objects.filter(state=WebhookDelivery.State.SUCCEEDED).exists(),
            20,
            log=second_log,
        )
        wait_until(lambda: broker_backlog() == (0, 0), 20, log=second_log)

    assert CoinTransaction.objects.filter(kind=EXPIRE).count() == 1
    assert _expired_audits() == 1
    assert sorted(CoinLot.objects.values_list("remaining", flat=True)) == [0, 0, 0, 5, 5, 5]
    assert [balance_of(person) for person in people] == [5, 5, 5]
    (delivered,) = webhook_receiver.requests
    event = json.loads(delivered.body)
    assert (event["type"], event["data"]["coins"]) == ("coins.expired", 60)
    assert_stores_consistent()
    broker_empty()
