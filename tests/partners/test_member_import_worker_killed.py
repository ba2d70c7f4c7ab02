"""A real Celery worker, on the real broker, killed (SIGKILL) while it applies a member
import: nothing of the apply survives; the broker hands the task to the next worker by itself
(no test calls it again), which resumes from the committed staging once the dead run's lease
has run out, and every member is imported once.

The worker is held mid-apply without touching its code: the test takes a SHARE lock on the
audit table, so the apply, having written the members, waits at the audit row of its finish,
still inside its transaction, where the test kills it. The lease (five minutes) is shorter
than the broker's visibility timeout on a server (an hour), so there the redelivery always
comes after it; here the test lets those minutes pass by moving the dead run's heartbeat back."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connections, transaction
from django.utils import timezone

from partners.actors import Actor
from partners.models import AuditEvent, MemberAccount, MemberImport, Partner
from partners.services import member_import_create
from partners.services.member_import_jobs import LEASE, lease_is_live
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
    wait_until,
    worker_process,
)

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.django_db(transaction=True)]
ROWS = 300
FINISHED = AuditEvent.Action.MEMBER_IMPORT_FINISHED


def _finished_audits() -> int:
    return AuditEvent.objects.filter(action=FINISHED).count()


def test_a_worker_killed_mid_apply_is_replaced_and_every_member_is_imported_once(
    partner: Partner, partner_admin: Any, settings: Any, tmp_path: Path
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

    # The dead run's lease runs out.
    MemberImport.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - LEASE - timedelta(minutes=1)
    )
    job.refresh_from_db()
    assert not lease_is_live(job)
    second_log = tmp_path / "second.log"
    with worker_process(second_log, visibility_timeout=1, env=env):
        wait_until(lambda: _finished_audits() == 1, 40, log=second_log)
        wait_until(lambda: broker_backlog() == (0, 0), 20, log=second_log)

    job.refresh_from_db()
    assert job.status == MemberImport.Status.COMPLETED, (job.status, job.failure)
    assert (job.rows_created, job.rows_updated, job.rows_invalid) == (ROWS, 0, 0)
    assert MemberAccount.objects.filter(partner=partner).count() == ROWS
    assert _finished_audits() == 1
    assert_stores_consistent()
    broker_empty()
