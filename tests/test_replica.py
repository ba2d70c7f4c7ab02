"""Reports are read from a real streaming replica, and writes never go to it (README, "Read
replica").

.ci/replica.sh runs a hot standby of the local PostgreSQL on port 5433; .ci/run runs this module
on its own with ``DATABASE_REPLICA_URL`` pointing at it. The replica copies the whole cluster,
so it holds the test database too (the alias mirrors the primary's test database's name, not
its address): rows a transactional test commits on the primary reach it by replication. Replay
is paused to tell the two apart: what the primary has and the replica has not yet replayed is
missing from a report only if the report was read on the replica.

Without ``DATABASE_REPLICA_URL`` (the ordinary suite) this module is skipped; with it, a replica
that cannot be reached skips it on a laptop and fails it in CI.
"""

from __future__ import annotations

import csv
import importlib
import io
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.db import InternalError, connections, router, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.compliance.selectors import consent_counts
from consent.models import ConsentEvent, ConsentState
from federation.holdouts.models import Holdout
from federation.metrics.figures import company_figures
from federation.metrics.models import ActivityDay, DailyFigure, LiftResult, Metric, RollupState
from federation.metrics.services import metrics_reactivation_lift
from partners.db import PRIMARY, REPLICA, replica_alias
from partners.models import Partner, Person
from tests.factories import make_member
from tests.factories.consent import grant_consent, make_notice

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        REPLICA not in settings.DATABASES,
        reason="needs DATABASE_REPLICA_URL and the replica of .ci/replica.sh (.ci/run runs it)",
    ),
    pytest.mark.django_db(transaction=True, databases=[PRIMARY, REPLICA]),
]
REPLAY_TIMEOUT = 30.0
TODAY = date(2026, 11, 2)
FIGURES = DailyFigure._meta.db_table
STATES = ConsentState._meta.db_table
EVENTS = ConsentEvent._meta.db_table
PARTNERS = Partner._meta.db_table


def _server(alias: str) -> psycopg.Connection[Any]:
    """A connection to the cluster behind ``alias`` (its maintenance database)."""
    params = settings.DATABASES[alias]
    return psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=params["USER"],
        password=params["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=5,
    )


@pytest.fixture
def standby() -> Iterator[psycopg.Connection[Any]]:
    """The replica's cluster, checked to be a standby streaming from the primary; replay runs
    again after the test, whatever it paused."""
    try:
        server = _server(REPLICA)
    except psycopg.OperationalError as exc:
        message = f"the replica of .ci/replica.sh is not running: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with server:
        assert server.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        try:
            yield server
        finally:
            server.execute("SELECT pg_wal_replay_resume()")


def _caught_up(standby: psycopg.Connection[Any]) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    with _server(PRIMARY) as primary:
        row = primary.execute("SELECT pg_current_wal_lsn()").fetchone()
    assert row is not None
    deadline = time.monotonic() + REPLAY_TIMEOUT
    while True:
        done = standby.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [row[0]])
        if done.fetchone() == (True,):
            return
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.05)


@contextmanager
def _replay_paused(standby: psycopg.Connection[Any]) -> Iterator[None]:
    _caught_up(standby)
    standby.execute("SELECT pg_wal_replay_pause()")
    deadline = time.monotonic() + REPLAY_TIMEOUT
    while standby.execute("SELECT pg_get_wal_replay_pause_state()").fetchone() != ("paused",):
        assert time.monotonic() < deadline, "replay did not pause"
        time.sleep(0.05)
    try:
        yield
    finally:
        standby.execute("SELECT pg_wal_replay_resume()")


@contextmanager
def _queries() -> Iterator[dict[str, CaptureQueriesContext]]:
    captured = {alias: CaptureQueriesContext(connections[alias]) for alias in (PRIMARY, REPLICA)}
    with captured[PRIMARY], captured[REPLICA]:
        yield captured


def _sql(captured: CaptureQueriesContext) -> str:
    return "\n".join(query["sql"] for query in captured.captured_queries)


def _active(company: Partner) -> list[tuple[date, int | None]]:
    series = company_figures(company, TODAY, TODAY, "day")
    return [point for one in series if one.metric == Metric.MEMBERS_ACTIVE for point in one.points]


def _figure(company: Partner, value: int) -> DailyFigure:
    return DailyFigure.objects.create(
        day=TODAY, metric=Metric.MEMBERS_ACTIVE, company=company, value=value
    )


def test_it_is_a_hot_standby_of_the_primary(standby: psycopg.Connection[Any]) -> None:
    primary = connections[PRIMARY].settings_dict
    replica = connections[REPLICA].settings_dict
    assert replica["NAME"] == primary["NAME"]  # the test database, by replication
    assert (replica["HOST"], replica["PORT"]) != (primary["HOST"], primary["PORT"])
    _caught_up(standby)
    with connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_database()")
        assert cursor.fetchone() == (True, primary["NAME"])


def test_a_report_is_read_from_the_replica(standby: psycopg.Connection[Any], host: Partner) -> None:
    _figure(host, 40)
    assert replica_alias() == REPLICA
    with _replay_paused(standby):
        # Committed on the primary, not yet replayed on the replica.
        DailyFigure.objects.filter(company=host).update(value=42)
        with _queries() as captured:
            assert _active(host) == [(TODAY, 40)]
        assert FIGURES in _sql(captured[REPLICA])
        assert FIGURES not in _sql(captured[PRIMARY])
        assert DailyFigure.objects.get(company=host).value == 42
    _caught_up(standby)
    assert _active(host) == [(TODAY, 42)]


def test_inside_a_transaction_a_report_reads_the_primary(
    standby: psycopg.Connection[Any], host: Partner
) -> None:
    with _replay_paused(standby), transaction.atomic():
        _figure(host, 5)  # this transaction's own write, which no replica has
        assert replica_alias() == PRIMARY
        with _queries() as captured:
            assert _active(host) == [(TODAY, 5)]
        assert _sql(captured[REPLICA]) == ""


def test_the_dashboards_csv_exports_and_compliance_counts_read_the_replica(
    standby: psycopg.Connection[Any],
    host: Partner,
    partner: Partner,
    alliance_manager: User,
    compliance_reviewer: User,
) -> None:
    _figure(host, 40)
    # A transactional test starts from a flushed database: the purposes' catalogue again.
    importlib.import_module("consent.migrations.0002_seed_purposes").seed(apps, None)
    make_notice(purposes=["profile_sharing"], recipients=[partner], data_items=["name"])
    grant_consent(make_member(host, "K-1"), partner, "profile_sharing")
    manager, reviewer = Client(), Client()
    manager.force_login(alliance_manager)
    reviewer.force_login(compliance_reviewer)
    with _replay_paused(standby):
        _figure(partner, 7)
        grant_consent(make_member(host, "K-2"), partner, "profile_sharing")
        # The list's filters are applied (and its rows counted) on the primary, as the list
        # page does; its rows are read on the replica, which has not replayed the partner's.
        with _queries() as captured:
            exported = manager.get("/admin/federation/dailyfigure/export-csv/")
            body = b"".join(exported.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
        rows = list(csv.reader(io.StringIO(body)))
        assert [row[2] for row in rows[1:]] == ["host-co"]
        assert FIGURES in _sql(captured[REPLICA])
        with _queries() as captured:
            counts = reviewer.get("/compliance/counts.csv")
            counted = b"".join(counts.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
        assert [row["consented"] for row in csv.DictReader(io.StringIO(counted))] == ["1"]
        assert STATES in _sql(captured[REPLICA])
        assert STATES not in _sql(captured[PRIMARY])
        with _queries() as captured:
            assert manager.get("/admin/").status_code == 200  # the alliance dashboard
            metrics = manager.get("/admin/federation/dailyfigure/dashboard/?company=host-co")
            assert metrics.status_code == 200
        assert EVENTS in _sql(captured[REPLICA])
        assert EVENTS not in _sql(captured[PRIMARY])
        assert FIGURES in _sql(captured[REPLICA])
        assert FIGURES not in _sql(captured[PRIMARY])
    _caught_up(standby)
    assert [count.consented for count in consent_counts(now=timezone.now())] == [2]


def test_a_running_lift_reads_the_replica_and_a_lift_kept_for_good_the_primary(
    standby: psycopg.Connection[Any], host: Partner
) -> None:
    Holdout.objects.create(
        kind=Holdout.Kind.REACTIVATION,
        key=f"reactivation:{host.slug}",
        company=host,
        percent=Decimal(0),
        seed="replica",
    )
    people = Person.objects.bulk_create(Person() for _ in range(3))
    ActivityDay.objects.bulk_create(
        ActivityDay(company=host, person=person, day=date(2026, 3, 10)) for person in people
    )
    # The rollup is complete through 15 September: August is final, September still running.
    RollupState.objects.create(name="activity", through=date(2026, 9, 15))
    august, september = (date(2026, 8, 1), date(2026, 8, 31)), (date(2026, 9, 1), date(2026, 9, 30))
    with _replay_paused(standby):
        # Committed on the primary, not yet replayed: one member back in August, one in
        # September.
        ActivityDay.objects.create(company=host, person=people[0], day=date(2026, 8, 10))
        ActivityDay.objects.create(company=host, person=people[1], day=date(2026, 9, 10))
        start, end = september
        running = metrics_reactivation_lift(host, start=start, end=end, dormant_days=90)
        start, end = august
        kept = metrics_reactivation_lift(host, start=start, end=end, dormant_days=90)
    assert (running["final"], kept["final"]) == (False, True)
    # The running figures from the replica: September's return not there yet (and the member
    # back in August not yet back either, so three dormant members rather than two).
    assert running["groups"]["treated"]["members"] == 3
    assert running["groups"]["treated"]["reactivated"] == 0
    # The kept figures from the primary, which has August's return.
    assert kept["groups"]["treated"]["reactivated"] == 1
    assert LiftResult.objects.get().figures["groups"]["treated"]["reactivated"] == 1


def test_the_replica_refuses_writes(standby: psycopg.Connection[Any], host: Partner) -> None:
    _caught_up(standby)
    with pytest.raises(InternalError) as refused:
        DailyFigure.objects.using(REPLICA).create(
            day=TODAY, metric=Metric.MEMBERS_ACTIVE, company_id=host.pk, value=1
        )
    cause = refused.value.__cause__
    assert isinstance(cause, psycopg.errors.ReadOnlySqlTransaction), cause
    assert not DailyFigure.objects.exists()


def test_writes_never_go_to_the_replica(standby: psycopg.Connection[Any], host: Partner) -> None:
    for model in apps.get_models():
        assert router.db_for_write(model) == PRIMARY
        assert not router.allow_migrate_model(REPLICA, model)
    _figure(host, 40)
    _caught_up(standby)
    figure = DailyFigure.objects.using(replica_alias()).get(company=host)
    assert figure._state.db == REPLICA
    with _queries() as captured:
        assert figure.company == host  # a relation of a replica row: read there
        figure.value = 41
        figure.save(update_fields=["value"])  # a replica row: written to the primary
        Partner.objects.filter(pk=host.pk).update(name_latin="Host Co (renamed)")
    assert figure._state.db == PRIMARY
    assert "UPDATE" not in _sql(captured[REPLICA])
    assert PARTNERS in _sql(captured[REPLICA])
    assert f'UPDATE "{FIGURES}"' in _sql(captured[PRIMARY])
    assert f'UPDATE "{PARTNERS}"' in _sql(captured[PRIMARY])
    assert DailyFigure.objects.using(PRIMARY).get(company=host).value == 41
