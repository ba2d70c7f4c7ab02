"""A computation's progress, as it goes: one ``SettlementRun`` row per computation, moved
through its stages in short transactions of its own so that the console and the API see the
stage while the computation's own transaction (which holds the period's row lock) is still
open.

On PostgreSQL, when the computation is not nested in a caller's transaction (the Celery task,
the console, the benchmark), the row is written through a second connection in autocommit: a
statement there commits at once whatever the computation's connection is doing. Nested in a
caller's transaction (tests, or a service calling another), that second connection could not
see the caller's uncommitted rows and its commits would escape the caller's rollback, so the
row is written on the computation's own connection and is seen when the caller commits.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import connection, connections
from django.utils import timezone

from federation.settlement.models import SettlementPeriod, SettlementRun
from partners.tasking import enqueue_on_commit

Stage = SettlementRun.Stage
COMPUTE_TASK = "federation.tasks.compute_settlement_period"


class Progress:
    """Moves one run through its stages; ``close()`` when the computation is over."""

    def __init__(self, period_id: uuid.UUID, run_id: int | None = None) -> None:
        self._side: Any = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self._side = connections.create_connection("default")
            self._side.set_autocommit(True)
        self.percent = 0
        self.run_id = run_id or self._insert(period_id)

    def stage(self, stage: str, percent: int | None = None) -> None:
        """Say the run reached ``stage`` (``percent`` done; where it stood if not given)."""
        self.percent = percent = self.percent if percent is None else percent
        now = timezone.now()
        if self._side is None:
            SettlementRun.objects.filter(pk=self.run_id).update(
                stage=stage, percent=percent, updated_at=now
            )
            return
        with self._side.cursor() as cursor:
            cursor.execute(
                "UPDATE federation_settlementrun SET stage = %s, percent = %s, updated_at = %s "
                "WHERE id = %s",
                [stage, percent, now, self.run_id],
            )

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None

    def _insert(self, period_id: uuid.UUID) -> int:
        if self._side is None:
            return SettlementRun.objects.create(period_id=period_id, stage=Stage.WAITING).pk
        now = timezone.now()
        with self._side.cursor() as cursor:
            cursor.execute(
                "INSERT INTO federation_settlementrun "
                "(period_id, stage, percent, started_at, updated_at) "
                "VALUES (%s, %s, 0, %s, %s) RETURNING id",
                [period_id, Stage.WAITING, now, now],
            )
            row = cursor.fetchone()
        return int(row[0])


def period_compute_queue(period: SettlementPeriod) -> SettlementRun:
    """Queue the period's computation as a Celery task once the caller commits; its run is
    ``queued`` until a worker takes it up. The task refuses a period no longer a draft."""
    run = SettlementRun.objects.create(period_id=period.pk, stage=Stage.QUEUED)
    enqueue_on_commit(COMPUTE_TASK, str(period.pk), run.pk)
    return run
