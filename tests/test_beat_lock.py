"""Exactly one beat (config.beat_lock): real ``celery beat`` processes on the test database. A
second beat exits at once with a message while the first keeps running; the first stops when
the session holding its lock ends. Their broker is kombu's in-memory one, so whatever they send
stays in them and never reaches a later test's worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.beat_lock import BEAT_LOCK_KEY

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's advisory locks"),
    pytest.mark.django_db,
]
BEAT = [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"]


def _beat(tmp_path: Path, name: str, database: str = "") -> subprocess.Popen[bytes]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{database or db['NAME']}"
    return subprocess.Popen(  # noqa: S603 - our own beat
        [*BEAT, "--schedule", str(tmp_path / f"{name}-schedule")],
        env={**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": "memory://"},
        stdout=(tmp_path / f"{name}.log").open("wb"),
        stderr=subprocess.STDOUT,
        cwd=settings.BASE_DIR,
    )


def _lock_holder() -> int | None:
    """The backend pid holding the beat lock in this database, if any."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = %s AND objid = %s AND objsubid = 1"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [BEAT_LOCK_KEY >> 32, BEAT_LOCK_KEY & 0xFFFFFFFF],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _wait_for_lock(beat: subprocess.Popen[bytes], seconds: float = 15) -> int | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and beat.poll() is None:
        holder = _lock_holder()
        if holder is not None:
            return holder
        time.sleep(0.1)
    return None


def test_a_second_beat_exits_while_the_first_keeps_the_lock(tmp_path: Path) -> None:
    assert _lock_holder() is None
    first = _beat(tmp_path, "first")
    second = None
    try:
        holder = _wait_for_lock(first)
        assert holder is not None, (tmp_path / "first.log").read_text()

        second = _beat(tmp_path, "second")
        started = time.monotonic()
        status = second.wait(timeout=15)
        second_log = (tmp_path / "second.log").read_text()
        assert status == 1, second_log
        assert "Another beat holds the beat lock" in second_log
        assert time.monotonic() - started < 10
        assert "Sending due task" not in second_log

        assert first.poll() is None, (tmp_path / "first.log").read_text()
        assert _lock_holder() == holder

        # The session holding the lock ends (a database restart would end it too): the first
        # beat stops rather than run on beside a beat that may take the lock next.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [holder])
        first.wait(timeout=10)
        assert "Beat lost its beat lock" in (tmp_path / "first.log").read_text()
    finally:
        for beat in (first, second):
            if beat is not None and beat.poll() is None:
                beat.kill()
                beat.wait(10)


def test_a_beat_that_cannot_ask_the_database_exits_rather_than_run_unlocked(
    tmp_path: Path,
) -> None:
    beat = _beat(tmp_path, "lost", database="sanpo_no_such_database")
    try:
        status = beat.wait(timeout=15)
    finally:
        if beat.poll() is None:
            beat.kill()
            beat.wait(10)
    log = (tmp_path / "lost.log").read_text()
    assert status == 1, log
    assert "Beat could not take the beat lock" in log
    assert "Sending due task" not in log
