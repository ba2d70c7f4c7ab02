"""Exactly one beat: a beat holds a PostgreSQL session advisory lock for as long as it runs.

Beat sends every periodic task (``config.celery``); two beats would send each one twice. So at
start (``beat_init``) beat opens a connection of its own and takes
``pg_try_advisory_lock(BEAT_LOCK_KEY)`` on it. A beat that cannot take the lock, because a beat
on this or another host holds it, logs why and exits with status 1 before it sends anything;
run beat under a supervisor that restarts it (systemd ``Restart=always``) and a second beat is
a standby that takes over once the first is gone.

The lock lives as long as its session: a beat that dies, or whose host does, releases it
(keepalives notice a lost host within about a minute). A beat whose session ends under it (the
database restarted, or the connection cut) stops at once, since another beat may take the lock
next; its supervisor starts it again. The tasks are idempotent, so the moment two beats may
overlap then does no harm. On SQLite (a laptop, one process) there is nothing to lock.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import threading
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import load_backend

logger = logging.getLogger(__name__)

# "SanpoBT" in ASCII: one number for the whole project, in every database it runs on.
BEAT_LOCK_KEY = 0x53616E706F4254
# libpq's keepalives on the lock's connection: a host that vanished without closing the
# connection is noticed after about 30 + 3 * 10 seconds instead of the kernel's two hours.
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}

_held: list[BaseDatabaseWrapper] = []  # the lock's connection, kept open for beat's life


def _lock_connection() -> BaseDatabaseWrapper:
    """A connection outside Django's pool of connections, so nothing closes it under beat."""
    settings_dict = {**connections["default"].settings_dict}
    settings_dict["OPTIONS"] = {**settings_dict["OPTIONS"], **KEEPALIVES}
    backend = load_backend(settings_dict["ENGINE"])
    wrapper: BaseDatabaseWrapper = backend.DatabaseWrapper(settings_dict, "beat_lock")
    wrapper.ensure_connection()
    return wrapper


def _try_lock() -> tuple[BaseDatabaseWrapper, bool]:
    lock = _lock_connection()
    with lock.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [BEAT_LOCK_KEY])
        (taken,) = cursor.fetchone()
    return lock, taken


def take_beat_lock(**kwargs: Any) -> None:
    """On ``beat_init`` (config.celery; an embedded beat, ``worker -B``, sends it too): take the
    beat lock, or exit with status 1 if another beat holds it or the database cannot say."""
    if connections["default"].vendor != "postgresql":
        return
    try:
        lock, taken = _try_lock()
    except Exception:
        # Celery logs and ignores what a signal handler raises: beat would run unlocked.
        logger.exception("Beat could not take the beat lock; this one exits.")
        raise SystemExit(1) from None
    if not taken:
        lock.close()
        logger.error(
            "Another beat holds the beat lock (PostgreSQL advisory lock %d on %s); this one "
            "exits, so that each periodic task is sent once.",
            BEAT_LOCK_KEY,
            lock.settings_dict["NAME"],
        )
        raise SystemExit(1)
    _held.append(lock)
    logger.info("Beat lock taken (PostgreSQL advisory lock %d).", BEAT_LOCK_KEY)
    threading.Thread(target=_stop_when_lost, args=(lock,), name="beat-lock", daemon=True).start()


def _stop_when_lost(lock: BaseDatabaseWrapper) -> None:
    """Wait on the idle connection's socket: anything arriving on it (the server's goodbye, a
    reset) is checked, and if the session is gone, beat is stopped. The driver's connection is
    used directly: Django's wrapper belongs to the thread that opened it."""
    session = lock.connection
    while True:
        select.select([session.fileno()], [], [])
        try:
            session.execute("SELECT 1")
        except Exception:
            logger.error(
                "Beat lost its beat lock (the database connection holding it ended); "
                "stopping, so that another beat may take over.",
                exc_info=True,
            )
            os.kill(os.getpid(), signal.SIGTERM)
            return
