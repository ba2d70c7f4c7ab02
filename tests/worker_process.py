"""A real Celery worker in its own process, on the real broker and the test's PostgreSQL
database, for fault tests that kill it (SIGKILL) mid-task and watch the broker hand its task to
the next one. Use it with ``django_db(transaction=True)`` on PostgreSQL: the worker sees only
what the test committed, as a server's worker does.

While a task runs, its message waits on Redis as unacknowledged (the settings acknowledge
late). Redis gives it to another worker once the message is older than the broker's visibility
timeout (``CELERY_BROKER_VISIBILITY_TIMEOUT``), checked when a worker starts and every ten
seconds after; ``visibility_timeout`` sets it for this worker, so a test sees the redelivery
in seconds rather than the hour a server waits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection

WORKER = [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "-l", "INFO"]
WORKER_FLAGS = ["--without-heartbeat", "--without-gossip", "--without-mingle"]


def broker_empty() -> None:
    """Drop every message on the test's broker database: the queue, and those a killed
    worker left unacknowledged (a later worker would otherwise run them on another test's
    rows, or on a database that is gone)."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


def broker_backlog() -> tuple[int, int]:
    """Messages waiting on any of the project's queues, and messages taken but not yet
    acknowledged."""
    from config.celery import app

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    waiting = sum(int(client.llen(queue.name)) for queue in app.conf.task_queues)
    return waiting, int(client.hlen("unacked"))


def start_worker(
    log: Path, *, visibility_timeout: int | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a worker process (solo pool: one task at a time, in the process a test kills)
    on the test database, with ``env`` added to this process's environment (the test's own
    settings overrides do not reach it); its output goes to ``log``."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "SANPO_WEBHOOK_ALLOW_LOOPBACK": "true",
        **(env or {}),
    }
    if visibility_timeout is not None:
        env["CELERY_BROKER_VISIBILITY_TIMEOUT"] = str(visibility_timeout)
    return subprocess.Popen(  # noqa: S603 - our own worker
        [*WORKER, *WORKER_FLAGS, "--hostname", f"fault-{log.stem}@%h"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=settings.BASE_DIR,
    )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """A warm shutdown (the task at hand finishes); killed if it takes more than 10 s."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)


@contextmanager
def worker_process(
    log: Path, *, visibility_timeout: int | None = None, env: dict[str, str] | None = None
) -> Iterator[None]:
    worker = start_worker(log, visibility_timeout=visibility_timeout, env=env)
    try:
        yield
    finally:
        stop_worker(worker)


def sigkill(worker: subprocess.Popen[bytes]) -> None:
    """Kill the worker as the kernel's OOM killer or a lost host would: no cleanup at all."""
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)


def tasks_succeeded(log: Path, task: str) -> int:
    """How many runs of ``task`` the worker writing ``log`` finished (its INFO log line)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return sum(1 for line in text.splitlines() if f"Task {task}[" in line and "succeeded" in line)


def tasks_retried(log: Path, task: str) -> int:
    """How many runs of ``task`` the worker writing ``log`` ended with a retry."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return sum(1 for line in text.splitlines() if f"Task {task}[" in line and " retry: " in line)


def lock_waiter(table: str) -> int | None:
    """The backend pid of a session of the test database waiting for a lock on ``table``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND l.relation = %s::regclass AND a.datname = current_database()",
            [table],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is None


def wait_until(condition: Callable[[], object], seconds: float, *, log: Path | None = None) -> None:
    """Poll ``condition`` every 0.1 s; fail (with the worker's log) if it is not met in time."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            shown = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
            raise AssertionError(f"not met in {seconds} s: {condition}\n{shown}")
        time.sleep(0.1)
