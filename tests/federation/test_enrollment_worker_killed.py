"""A real Celery worker, on the real broker, killed (SIGKILL) while it finishes an enrollment
batch: the broker hands the task to the next worker by itself (no test calls it again), which
continues from the committed progress; the members are enrolled once, and the batch finishes
once, with one audit event and one webhook.

The worker is held mid-task without touching its code: the test takes a SHARE lock on the
audit table, so the run, having enrolled its chunk and committed that progress, waits at the
audit row of its finish, the batch's "done" still uncommitted, where the test kills it."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import connections

from federation import services
from federation.audit import FederationAuditAction
from federation.models import Agreement, Enrollment, EnrollmentBatch
from partners.actors import Actor
from partners.models import AuditEvent, Partner, WebhookDelivery, WebhookEndpoint
from tests.conftest import WebhookReceiver
from tests.fault_checks import assert_stores_consistent
from tests.federation.conftest import enrollment_member, grant_enrollment_consents
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
FINISHED = FederationAuditAction.ENROLLMENT_BATCH_FINISHED
Status = EnrollmentBatch.Status


@pytest.fixture
def purposes_catalogue(transactional_db: None) -> None:
    """A flushed transactional database lacks the rows of the data migrations: put the
    purposes catalogue back as its migration does."""
    importlib.import_module("consent.migrations.0002_seed_purposes").seed(apps, None)


def _finished_audits() -> int:
    return AuditEvent.objects.filter(action=FINISHED).count()


def test_a_worker_killed_finishing_a_batch_is_replaced_and_it_finishes_once(
    purposes_catalogue: None,
    host: Partner,
    partner: Partner,
    agreement: Agreement,
    webhook_receiver: WebhookReceiver,
    tmp_path: Path,
) -> None:
    broker_empty()
    WebhookEndpoint.objects.update(url=webhook_receiver.url)
    members = [enrollment_member(host, f"W-{n}") for n in range(5)]
    for member in members[:4]:
        grant_enrollment_consents(member, partner, "cross_enrollment", "profile_sharing")
    batch = services.enrollment_batch_start(  # on the broker; no worker runs yet
        source=host,
        target=partner,
        member_numbers=[member.member_number for member in members],
        fields=["name"],
        actor=SYSTEM,
    )

    holder: Any = connections.create_connection("default")
    holder.set_autocommit(False)
    with holder.cursor() as cursor:
        cursor.execute("LOCK TABLE partners_auditevent IN SHARE MODE")
    first_log = tmp_path / "first.log"
    worker = start_worker(first_log, visibility_timeout=1)
    try:
        wait_until(lambda: lock_waiter("partners_auditevent"), 60, log=first_log)
        waiting = lock_waiter("partners_auditevent")
        sigkill(worker)
    finally:
        stop_worker(worker)
        holder.rollback()
        holder.close()
    assert waiting is not None
    wait_until(lambda: backend_gone(waiting), 30)  # its session rolled back, client gone
    batch.refresh_from_db()
    # The chunk and its progress were committed; the finish was not.
    assert (batch.status, batch.processed, batch.enrolled) == (Status.RUNNING, 5, 4)
    assert Enrollment.objects.filter(batch=batch).count() == 4
    assert _finished_audits() == 0
    assert broker_backlog() == (0, 1)  # taken, never acknowledged: the broker still holds it

    second_log = tmp_path / "second.log"
    with worker_process(second_log, visibility_timeout=1):
        wait_until(lambda: _finished_audits() == 1, 40, log=second_log)
        completed = WebhookDelivery.objects.filter(event_type="enrollment.batch_completed")
        wait_until(
            lambda: completed.filter(state=WebhookDelivery.State.SUCCEEDED).exists(),
            20,
            log=second_log,
        )
        wait_until(lambda: broker_backlog() == (0, 0), 20, log=second_log)

    batch.refresh_from_db()
    assert (batch.status, batch.processed, batch.enrolled) == (Status.DONE, 5, 4)
    assert Enrollment.objects.filter(batch=batch).count() == 4
    assert Enrollment.objects.count() == 4
    assert _finished_audits() == 1
    events = [json.loads(request.body) for request in webhook_receiver.requests]
    told = [event for event in events if event["type"] == "enrollment.batch_completed"]
    (only,) = told  # to the target, once
    assert only["data"]["enrolled"] == 4
    assert completed.count() == 1
    assert_stores_consistent()
    broker_empty()
