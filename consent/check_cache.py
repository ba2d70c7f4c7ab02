"""A per-process cache for the single consent check, kept current by PostgreSQL itself.

A check that hits the database costs a round trip (about 15,000 a second on one core here),
which is too slow for the features that ask one member at a time. So each process keeps the
consent states it has read, and PostgreSQL tells it when to forget them: triggers (migration
``0006``) send ``NOTIFY sanpo_consent`` in the transaction of every change of a consent state,
a member's status, a partner's status or a notice, and a daemon thread here ``LISTEN``s on a
connection of its own and evicts what changed.

Rules that keep the answer exact:
- The cache answers only while the listener is connected and listening; before that, after a
  lost connection, or on SQLite, every check goes to the database. Each (re)connection starts
  from an empty cache, since notifications sent while away are lost.
- A read that raced a change is not stored: reads note the generation (bumped by every
  notification) before asking the database and store only if it is unchanged after.
- Writes made by this process evict on commit as well, so a withdrawal is in force for this
  process's next check without waiting for the notification to come round.
- A check inside a transaction reads the database, so a feature that locks rows and then asks
  (``provision_record``) sees exactly what its transaction sees.

What remains is the notification's own delay for checks in *other* processes, well under a
millisecond on one host: the same window as a database read that began just before the
withdrawal committed.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection

CHANNEL = "sanpo_consent"
EVERYTHING = "*"
_HEARTBEAT_SECONDS = 5.0
_RETRY_SECONDS = 1.0

logger = logging.getLogger(__name__)

# (granted, expires_at, notice conditions, member status), or None when there is no state.
StateRow = tuple[bool, datetime | None, str | None, str] | None
MISSING = object()


class ConsentCache:
    def __init__(self, max_members: int) -> None:
        self.max_members = max_members
        self._lock = threading.Lock()
        self._states: dict[uuid.UUID, dict[tuple[str, uuid.UUID], StateRow]] = {}
        self._recipients: dict[uuid.UUID, str] | None = None
        self._notices: list[tuple[datetime, int, str]] | None = None
        self._generation = 0
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._conn: psycopg.Connection[Any] | None = None

    # --- Reading -------------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        return self._generation

    def usable(self) -> bool:
        """True once the listener is listening in this process (started on first use)."""
        if self._pid != os.getpid():  # first use, or a forked worker: listen afresh
            self._start()
        return self._ready.is_set()

    def state(self, member_id: uuid.UUID, purpose: str, recipient_id: uuid.UUID) -> Any:
        """The cached state row, or ``MISSING``."""
        states = self._states.get(member_id)
        if states is None:
            return MISSING
        return states.get((purpose, recipient_id), MISSING)

    def recipients(self) -> dict[uuid.UUID, str] | None:
        return self._recipients

    def notices(self) -> list[tuple[datetime, int, str]] | None:
        """Every notice as (effective_at, version, conditions), newest version first."""
        return self._notices

    # --- Writing -------------------------------------------------------------------------------

    def store_state(
        self,
        member_id: uuid.UUID,
        purpose: str,
        recipient_id: uuid.UUID,
        row: StateRow,
        *,
        generation: int,
    ) -> None:
        with self._lock:
            if generation != self._generation or not self._ready.is_set():
                return  # something changed while we read: the row may be stale
            states = self._states.get(member_id)
            if states is None:
                if len(self._states) >= self.max_members:
                    # Drop the oldest member (dicts keep insertion order): cheap and bounded.
                    self._states.pop(next(iter(self._states)))
                states = self._states[member_id] = {}
            states[(purpose, recipient_id)] = row

    def store_tables(
        self,
        recipients: dict[uuid.UUID, str],
        notices: list[tuple[datetime, int, str]],
        *,
        generation: int,
    ) -> None:
        with self._lock:
            if generation == self._generation and self._ready.is_set():
                self._recipients = recipients
                self._notices = notices

    def forget(self, payload: str) -> None:
        """Evict what a notification names: one member's states, or everything."""
        with self._lock:
            self._generation += 1
            if payload.startswith("m:"):
                try:
                    self._states.pop(uuid.UUID(payload[2:]), None)
                except ValueError:
                    self._clear()
            else:
                self._clear()

    def _clear(self) -> None:
        self._states.clear()
        self._recipients = None
        self._notices = None

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._clear()

    # --- Listening -----------------------------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._ready = threading.Event()
            self._stop = threading.Event()
            self._generation += 1
            self._clear()
            if connection.vendor != "postgresql" or not settings.SANPO_CONSENT_CACHE:
                return
            params = _conninfo(connection.settings_dict)
            self._thread = threading.Thread(
                target=self._listen, args=(params,), name="sanpo-consent-listener", daemon=True
            )
            self._thread.start()
        # The first checks go to the database while the listener connects; give it a moment
        # so that a process that checks at once still benefits.
        self._ready.wait(timeout=2.0)

    def _listen(self, params: str) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(params, autocommit=True) as conn:
                    self._conn = conn
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.clear()  # notifications sent before LISTEN are lost: start afresh
                    self._ready.set()
                    while not self._stop.is_set():
                        for notify in conn.notifies(timeout=_HEARTBEAT_SECONDS):
                            self.forget(notify.payload)
                        conn.execute("SELECT 1")  # a dead connection raises here
            except psycopg.Error as error:
                if not self._stop.is_set():
                    logger.warning("Consent cache listener lost its connection: %s", error)
            finally:
                self._ready.clear()
                self._conn = None
                self.clear()
            self._stop.wait(_RETRY_SECONDS)

    def stop(self) -> None:
        """Stop listening and forget everything (tests, before the test database is dropped)."""
        self._stop.set()
        conn = self._conn
        if conn is not None:
            try:
                # Wake the listener out of its wait; it closes its own connection.
                with psycopg.connect(_conninfo(connection.settings_dict), autocommit=True) as c:
                    c.execute("SELECT pg_notify(%s, %s)", [CHANNEL, EVERYTHING])
            except psycopg.Error:
                pass
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None
        self._pid = 0
        self.clear()


def _conninfo(
    settings_dict: dict[str, Any], application_name: str = "sanpo-consent-listener"
) -> str:
    return psycopg.conninfo.make_conninfo(
        dbname=settings_dict["NAME"],
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        host=settings_dict.get("HOST") or None,
        port=str(settings_dict.get("PORT") or "") or None,
        application_name=application_name,
        # Notice a peer that vanished without closing (a failover) within seconds.
        keepalives=1,
        keepalives_idle=5,
        keepalives_interval=2,
        keepalives_count=3,
    )


cache = ConsentCache(max_members=settings.SANPO_CONSENT_CACHE_MEMBERS)


def forget_member_on_commit(member_id: uuid.UUID) -> Callable[[], None]:
    """An on_commit callback that evicts one member here without waiting for the notice."""
    return lambda: cache.forget(f"m:{member_id}")
