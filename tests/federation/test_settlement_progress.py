"""A computation's progress: a run row moved through its stages, done (or failed) at the end,
shown in the period's API detail; and, on PostgreSQL, seen by others while the computation's
own transaction is still open."""

from __future__ import annotations

import importlib
import threading
import time
from datetime import date
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, connections

from federation.settlement.models import SettlementPeriod, SettlementRun
from federation.settlement.services import period_compute, period_review_open
from federation.settlement.tasks import compute_settlement_period
from tests.conftest import Key, client_for
from tests.factories import issue_key
from tests.federation.settlement_world import SYSTEM, make_alliance, may_ledger, tokyo

MAY = (date(2026, 5, 1), date(2026, 5, 31))
Stage = SettlementRun.Stage


@pytest.mark.django_db
def test_a_computation_ends_done_and_the_period_detail_shows_it() -> None:
    alliance = make_alliance()
    may_ledger(alliance)
    period = alliance.period(*MAY)
    period_compute(period, actor=SYSTEM)
    run = SettlementRun.objects.get(period_id=period.pk)
    assert (run.stage, run.percent) == (Stage.DONE, 100)

    period_review_open(period, actor=SYSTEM, now=tokyo(date(2026, 6, 1), 0))
    key = Key(alliance.a, issue_key(alliance.a).plaintext)
    body = client_for(key).get(f"/api/v1/settlement/periods/{period.pk}").json()
    assert body["computation"]["stage"] == "done"
    assert body["computation"]["percent"] == 100
    assert body["payment"] is None


@pytest.mark.django_db
def test_a_refused_computation_is_marked_failed_where_it_stopped() -> None:
    alliance = make_alliance()
    period = alliance.period(*MAY)
    period_review_open(period, actor=SYSTEM, now=tokyo(date(2026, 6, 1), 0))
    with pytest.raises(Exception, match="state"):
        period_compute(SettlementPeriod.objects.get(pk=period.pk), actor=SYSTEM)
    run = SettlementRun.objects.get(period_id=period.pk)
    assert (run.stage, run.percent) == (Stage.FAILED, 0)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a second connection's view")
@pytest.mark.django_db(transaction=True)
def test_others_see_the_stage_while_the_computation_waits_for_the_period() -> None:
    """The period's row held by another transaction (a move in progress): the task's run is
    visible, in its waiting stage, to a third connection until the holder lets go."""
    importlib.import_module("consent.migrations.0002_seed_purposes").seed(apps, None)
    alliance = make_alliance()
    may_ledger(alliance)
    period = alliance.period(*MAY)
    holder = connections.create_connection("default")
    holder.set_autocommit(False)
    with holder.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM federation_settlementperiod WHERE id = %s FOR UPDATE", [period.pk]
        )
    errors: list[BaseException] = []

    def work() -> None:
        try:
            compute_settlement_period(str(period.pk))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    worker = threading.Thread(target=work)
    worker.start()
    try:
        seen = _stage_seen(period, Stage.WAITING)
    finally:
        holder.rollback()
        holder.close()
        worker.join()
    assert errors == []
    assert seen
    run = SettlementRun.objects.get(period_id=period.pk)
    assert (run.stage, run.percent) == (Stage.DONE, 100)
    assert period.lines.exists()


def _stage_seen(period: Any, stage: str) -> bool:
    for _ in range(100):
        if SettlementRun.objects.filter(period_id=period.pk, stage=stage).exists():
            return True
        time.sleep(0.05)
    return False
