"""A computation's progress: a run row moved through its stages, done (or failed) at the end,
shown in the period's API detail; and, on PostgreSQL, seen by others while the computation's
own transaction is still open. And the review's wait for postings still committing."""

from __future__ import annotations

import importlib
import threading
import time
from datetime import date
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, connections, transaction

from federation.settlement.models import SettlementPeriod, SettlementRun
from federation.settlement.services import period_compute, period_review_open
from federation.settlement.tasks import compute_settlement_period
from partners.models import Person
from tests.conftest import Key, client_for
from tests.factories import issue_key
from tests.federation.settlement_world import (
    SYSTEM,
    earn,
    make_alliance,
    may_ledger,
    redeem,
    tokyo,
)

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


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's table lock")
@pytest.mark.django_db(transaction=True)
def test_the_review_waits_for_a_posting_still_committing_when_the_period_ended() -> None:
    """A redemption stamped on the period's last evening whose transaction has not committed
    yet when the host opens the review: the review waits for it, and counts it."""
    importlib.import_module("consent.migrations.0002_seed_purposes").seed(apps, None)
    alliance = make_alliance()
    person = Person.objects.create()
    earn(person, alliance.a, 300, "1", tokyo(date(2026, 5, 2)))
    period = alliance.period(*MAY)
    posted, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def posting() -> None:
        try:
            with transaction.atomic():
                redeem(person, alliance.b, 100, tokyo(date(2026, 5, 31), 23))
                posted.set()
                release.wait(10)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def review() -> None:
        try:
            period_review_open(period, actor=SYSTEM, now=tokyo(date(2026, 6, 1), 0))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=posting), threading.Thread(target=review)]
    threads[0].start()
    assert posted.wait(10)
    threads[1].start()
    time.sleep(0.5)
    waited = threads[1].is_alive()
    release.set()
    for thread in threads:
        thread.join()
    assert errors == []
    assert waited
    line = period.lines.get(kind="redemption")
    assert (line.debtor_id, line.creditor_id, line.coins) == (alliance.a.pk, alliance.b.pk, 100)
