"""A real Celery worker, on the real broker, killed (SIGKILL) while it applies a member
import: nothing of the apply survives; the broker hands the task to the next worker by itself
(no test calls it again); refused while the dead run's lease is live, it asks again when the
lease runs out and resumes from the committed staging, and every member is imported once.

The worker is held mid-apply without touching its code: the test takes a SHARE lock on the
audit table, so the apply, having written the members, waits at the audit row of its finish,
still inside its transaction, where the test kills it. The lease (five minutes and more) counts
from the dead run's last progress, the broker's visibility timeout from the delivery; the test
lets minutes pass by moving the dead run's heartbeat back, keeping three seconds of its lease
until the redelivered task has been refused."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.db.models import F

from partners.actors import Actor
from partners.models import AuditEvent, MemberAccount, MemberImport, Partner
from partners.services import member_import_create
from partners.services.member_import_jobs import lease_left
from partners.services.member_staging import Stage
from partners.synthetic import write_csv
from tests.fault_checks import assert_stores_consistent
from tests.worker_process import (
    backend_gone,
    broker_backlog,
    broker_empty,
    lock_waiter,
    sigkill,
    start_worker,
    stop_worker,
    tasks_retried,
    tasks_succeeded,
    wait_until,
    worker_process,
)

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.django_db(transaction=True)]
ROWS = 300
FINISHED = AuditEvent.Action.MEMBER_IMPORT_FINISHED
IMPORT = "partners.tasks.run_member_import"


def _finished_audits() -> int:
    return AuditEvent.objects.filter(action=FINISHED).count()


def _lease_nearly_out(job: MemberImport) -> bool:
    """Move the dead run's last progress back to three seconds before its lease runs out."""
    job.refresh_from_db()
    left = lease_left(job)
    assert left is not None, "the lease ran out before the task was refused"
    MemberImport.objects.filter(pk=job.pk).update(
        heartbeat_at=F("heartbeat_at") - left + timedelta(seconds=3)
    )
    return True


def test_a_worker_killed_mid_apply_is_replaced_and_every_member_is_imported_once(
    partner: Partner,
    partner_admin: Any,
    settings: Any,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    broker_empty()
    settings.MEDIA_ROOT = tmp_path / "media"
    env = {"MEDIA_ROOT": str(settings.MEDIA_ROOT), "SANPO_IMPORT_CHUNK_ROWS": "100"}
    upload = io.BytesIO()
    write_csv(upload, count=ROWS, seed=11)
    upload.seek(0)
    with transaction.atomic():  # on the broker when this commits; no worker runs yet
        job = member_import_create(
            partner=partner,
            upload=upload,
            original_name="brand-members.csv",
            actor=Actor(user=partner_admin),
            enqueue=True,
        )
    stage = Stage(name=job.id, partner_id=job.partner_id)
    request.addfinalizer(stage.drop)  # even if this test fails: its tables outlive a flush

    holder: Any = connections.create_connection("default")
    holder.set_autocommit(False)
    with holder.cursor() as cursor:
        cursor.execute("LOCK TABLE partners_auditevent IN SHARE MODE")
    first_log = tmp_path / "first.log"
    worker = start_worker(first_log, visibility_timeout=1, env=env)
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
    job.refresh_from_db()
    assert (job.status, job.rows_staged) == (MemberImport.Status.APPLYING, ROWS)
    assert not MemberAccount.objects.filter(partner=partner).exists()
    assert _finished_audits() == 0
    assert broker_backlog() == (0, 1)  # taken, never acknowledged: the broker still holds it

    second_log = tmp_path / "second.log"
    with worker_process(second_log, visibility_timeout=1, env=env):
        # Minutes pass, but not the lease: until the redelivered task has been refused, keep
        # three seconds of it left (however long the worker takes to start), then let it run
        # out. Refused while it is live, the task asks again once it has run out.
        wait_until(
            lambda: _lease_nearly_out(job) and tasks_retried(second_log, IMPORT), 40, log=second_log
        )
        wait_until(lambda: _finished_audits() == 1, 40, log=second_log)
        wait_until(lambda: broker_backlog() == (0, 0), 20, log=second_log)
    assert tasks_succeeded(second_log, IMPORT) == 1

    job.refresh_from_db()
    assert job.status == MemberImport.Status.COMPLETED, (job.status, job.failure)
    assert (job.rows_created, job.rows_updated, job.rows_invalid) == (ROWS, 0, 0)
    assert MemberAccount.objects.filter(partner=partner).count() == ROWS
    assert _finished_audits() == 1
    with connection.cursor() as cursor:  # the resumed run dropped the dead one's staging
        tables = connection.introspection.table_names(cursor)
    assert stage.table not in tables
    assert_stores_consistent()
    broker_empty()
