"""A real Celery worker, on the real broker, killed (SIGKILL) in the middle of a period's
computation: nothing it wrote survives, and a rerun gives the one result. PostgreSQL only, with
a broker configured (``CELERY_BROKER_URL``).

The worker is held mid-computation without touching its code: the test takes a SHARE lock on
the audit table, so the computation, having replaced the lines and written the statements,
waits at its audit row, still inside its transaction, where the test kills it."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from django.apps import apps
from django.conf import settings
from django.db import connection, connections, transaction

from federation.settlement.models import SettlementPeriod, SettlementRun
from federation.settlement.services import period_compute_queue
from federation.settlement.tasks import compute_settlement_period
from partners.models import AuditEvent
from tests.federation.settlement_world import make_alliance, may_ledger
from tests.federation.test_settlement_progress import MAY

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's locks"),
    pytest.mark.skipif(not settings.CELERY_BROKER_URL, reason="needs the real broker"),
    pytest.mark.django_db(transaction=True),
]
Stage = SettlementRun.Stage
WORKER = [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "-l", "WARNING"]


def _worker(log: Path) -> subprocess.Popen[bytes]:
    """A worker process on the broker, reading and writing the test database."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return subprocess.Popen(  # noqa: S603 - our own worker
        [*WORKER, "--without-heartbeat", "--without-gossip", "--without-mingle"],
        env={**os.environ, "DATABASE_URL": url},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=settings.BASE_DIR,
    )


def _wait_for(stage: str, run_id: int, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if SettlementRun.objects.filter(pk=run_id, stage=stage).exists():
            return True
        time.sleep(0.1)
    return False


def test_a_worker_killed_mid_computation_leaves_nothing_and_the_rerun_completes(
    tmp_path: Path,
) -> None:
    from config.celery import app

    app.control.purge()
    importlib.import_module("consent.migrations.0002_seed_purposes").seed(apps, None)
    alliance = make_alliance()
    may_ledger(alliance)
    period = alliance.period(*MAY)
    holder: Any = connections.create_connection("default")
    holder.set_autocommit(False)
    with holder.cursor() as cursor:
        cursor.execute("LOCK TABLE partners_auditevent IN SHARE MODE")
    worker = _worker(tmp_path / "worker.log")
    try:
        run = period_compute_queue(period)  # sent to the broker at once (no transaction open)
        reached = _wait_for(Stage.STATEMENTS, run.pk)
        time.sleep(0.3)  # the lines and statements written, the audit row waiting
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
        holder.rollback()
        holder.close()
    assert reached, (tmp_path / "worker.log").read_text()

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

    compute_settlement_period(str(period.pk))  # the rerun
    assert AuditEvent.objects.filter(action="settlement.computed").count() == 1
    assert period.statements.count() == 3
    assert period.lines.filter(kind="redemption").exists()
    assert SettlementRun.objects.filter(period_id=period.pk).latest("pk").stage == Stage.DONE
    # The killed worker's message stays unacknowledged on the broker (acks late) until its
    # visibility timeout; this test's database is gone by then, so drop it.
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("unacked", "unacked_index")
