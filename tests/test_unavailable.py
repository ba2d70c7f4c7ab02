"""The database out of reach: a request fails cleanly (503, Retry-After, the usual error
shape, nothing written), the health endpoint says unready, and the next request after the
database is back succeeds by itself. A bad query is still a bug (500), not an outage."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client

from partners.models import AuditEvent
from partners.unavailable import database_unavailable
from tests.conftest import Key, client_for
from tests.fault_checks import assert_stores_consistent


def _wrapped(cause: BaseException) -> OperationalError:
    try:
        raise OperationalError(str(cause)) from cause
    except OperationalError as exc:
        return exc


def test_only_an_out_of_reach_database_counts() -> None:
    assert database_unavailable(_wrapped(psycopg.OperationalError("connection refused")))
    assert database_unavailable(_wrapped(psycopg.errors.AdminShutdown()))
    assert database_unavailable(_wrapped(psycopg.errors.DeadlockDetected()))
    assert database_unavailable(_wrapped(psycopg.errors.QueryCanceled()))
    assert database_unavailable(_wrapped(sqlite3.OperationalError("database is locked")))
    assert database_unavailable(InterfaceError("connection already closed"))
    assert not database_unavailable(_wrapped(psycopg.errors.UndefinedTable()))
    assert not database_unavailable(_wrapped(sqlite3.OperationalError("no such table: x")))
    assert not database_unavailable(ValueError("no"))


@contextmanager
def _database_gone() -> Iterator[None]:
    """The real connection closed and pointed at nothing: the next query cannot connect."""
    settings = connection.settings_dict
    saved = dict(settings)
    connection.close()
    settings["PORT"] = "1"  # nothing listens there
    try:
        yield
    finally:
        connection.close()
        settings.clear()
        settings.update(saved)


@pytest.mark.postgres  # SQLite's test database lives in memory and cannot go away
@pytest.mark.django_db(transaction=True)
def test_requests_fail_cleanly_while_the_database_is_gone_and_recover_after(
    host_key: Key,
) -> None:
    api = client_for(host_key)
    events = AuditEvent.objects.count()
    with _database_gone():
        answer = api.post(
            "/api/v1/webhook-endpoints",
            {"url": "http://127.0.0.1:9/sanpo", "events": ["consent.withdrawn"]},
            format="json",
            HTTP_IDEMPOTENCY_KEY="outage-1",
        )
        assert answer.status_code == 503, answer.content
        assert answer["Retry-After"] == "5"
        assert answer.json()["error"]["code"] == "service_unavailable"
        health = Client().get("/health/")
        assert health.status_code == 503
        assert health.json()["checks"]["database"]["ok"] is False
        page = Client().get("/r/" + "a" * 32)  # a referral link: a page, not the API
        assert page.status_code == 503
        assert page["Retry-After"] == "5"
    # Back: the same request goes through, once.
    assert api.get("/api/v1/webhook-endpoints").status_code == 200
    assert AuditEvent.objects.count() == events
    assert Client().get("/health/").status_code == 200
    assert_stores_consistent()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_live_process_stays_live_while_it_is_not_ready() -> None:
    with _database_gone():
        assert Client().get("/health/ready/").status_code == 503
        live = Client().get("/health/live/")
        assert live.status_code == 200
        assert live.json() == {"status": "ok"}
    assert Client().get("/health/ready/").status_code == 200
