"""When the database is briefly out of reach (restarting, failing over, refusing connections,
a query cancelled or a deadlock broken), a request fails cleanly: 503 with ``Retry-After`` and
the usual error shape, never a 500. Django opens a new connection on the next request
(``CONN_HEALTH_CHECKS``), so the service recovers by itself when the database is back.

Only errors of the connection's state count: a missing table or a bad query is still a bug
and still a 500."""

from __future__ import annotations

import sqlite3

from django.db import InterfaceError, OperationalError

RETRY_AFTER_SECONDS = 5
# PostgreSQL's SQLSTATEs of a database out of reach or of work it broke off to be retried:
# connection exceptions (08), insufficient resources (53), operator intervention (57: admin
# or crash shutdown, cannot connect now, query cancelled), serialization failure and deadlock.
TRANSIENT_STATES = ("08", "53", "57", "40001", "40P01")
SQLITE_TRANSIENT = ("database is locked", "disk i/o error", "unable to open database file")


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database was out of reach rather than the request wrong."""
    if isinstance(exc, InterfaceError):  # the connection was closed under us
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if isinstance(cause, sqlite3.OperationalError):
        return str(cause).lower().startswith(SQLITE_TRANSIENT)
    state = getattr(getattr(cause, "diag", None), "sqlstate", None) or getattr(
        cause, "sqlstate", None
    )
    if state is None:  # psycopg's own: the server could not be reached or went away
        return True
    return str(state).startswith(TRANSIENT_STATES)
