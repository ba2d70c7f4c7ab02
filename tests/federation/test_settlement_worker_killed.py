"""A real Celery worker, on the real broker, killed (SIGKILL) in the middle of a period's
computation: nothing it wrote survives, and the broker's redelivery of the task to the next
worker (no test calls it again) gives the one result. PostgreSQL only, with a broker configured
(``CELERY_BROKER_URL``).

The worker is held mid-computation without touching its code: the test takes a SHARE lock on
the audit table, so the computation, having replaced the lines and written the statements,
waits at its audit row, still inside its transaction, where the test kills it."""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, connections, transaction

from federation.settlement.models import SettlementPeriod, SettlementRun
from federation.settlement.services import period_compute_queue
from partners.models import AuditEvent
from tests.fault_checks import assert_stores_consistent
from tests.federation.settlement_world import make_alliance, may_ledger
from tests.federation.test_settlement_progress import MAY
from tests.worker_process import (
    broker_backlog,
    broker_empty,
    sigkill,
    start_worker,
    stop_worker,
    wait_until,
    worker_process,
)

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's locks"),
    pytest.mark.skipif(not settings.CELERY_BROKER_URL, reason="needs the real broker"),
    pytest.mark.django_db(transaction=True),
]
Stage = SettlementRun.Stage


def _wait_for(stage: str, run_id: int, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if SettlementRun.objects.filter(pk=run_id, stage=stage).exists():
            return True
        time.sleep(0.1)
    return False


def test_a_worker_killed_mid_computation_leaves_nothing_and_its_redelivery_completes(
    tmp_path: Path,
) -> None:
    broker_empty()
    importlib.import_module("consent.migrations.0002_seed_purposes").seed(apps, None)
    alliance = make_alliance()
    may_ledger(alliance)
    period = alliance.period(*MAY)
    holder: Any = connections.create_connection("default")
    holder.set_autocommit(False)
    with holder.cursor() as cursor:
        cursor.execute("LOCK TABLE partners_auditevent IN SHARE MODE")
    first_log = tmp_path / "first.log"
    worker = start_worker(first_log, visibility_timeout=1)
    try:
        run = period_compute_queue(period)  # sent to the broker at once (no transaction open)
        reached = _wait_for(Stage.STATEMENTS, run.pk)
        time.sleep(0.3)  # the lines and statements written, the audit row waiting
        sigkill(worker)
    finally:
        stop_worker(worker)
        holder.rollback()
        holder.close()
    assert reached, first_log.read_text()

    # The dead worker's transaction is over once its period row can be locked: none of it.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '30s'")
        SettlementPeriod.objects.select_for_update().get(pk=period.pk)
        assert period.lines.count() == 0
        assert period.statements.count() == 0
        assert SettlementPeriod.objects.get(pk=period.pk).computed_at is None
        assert not AuditEvent.objects.filter(action="settlement.computed").exists()
    stopped = SettlementRun.objects.get(pk=run.pk)
    assert (stopped.stage, stopped.percent) == (Stage.STATEMENTS, 70)  # where it stopped
    assert broker_backlog() == (0, 1)  # taken, never acknowledged: the broker still holds it

    second_log = tmp_path / "second.log"
    with worker_process(second_log, visibility_timeout=1):  # the broker redelivers the task
        wait_until(
            lambda: SettlementRun.objects.filter(pk=run.pk, stage=Stage.DONE).exists(),
            60,
            log=second_log,
        )
        wait_until(lambda: broker_backlog() == (0, 0), 20, log=second_log)
    assert AuditEvent.objects.filter(action="settlement.computed").count() == 1
    assert period.statements.count() == 3
    assert period.lines.filter(kind="redemption").exists()
    assert SettlementRun.objects.filter(period_id=period.pk).count() == 1
    assert_stores_consistent()
    broker_empty()
