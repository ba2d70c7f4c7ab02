"""Which database a query goes to: the primary for everything, a streaming replica for the
reporting reads that ask for it (README, "Read replica").

Routing is explicit. A router that sent every read to the replica would send the read that
follows a write (a service reading back what it saved, the page after a redirect) to a copy
that may not have it yet: a replica is behind the primary by its replication lag. So the
router sends every read and every write to the primary, and only the reporting selectors
(metrics figures, the dashboard and the lift; the compliance lists; the consoles' CSV exports)
read with ``.using(replica_alias())``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Model

PRIMARY = "default"
REPLICA = "replica"


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_alias() -> str:
    """The alias a reporting read uses: the replica when ``DATABASE_REPLICA_URL`` configures
    one, else the primary. Inside a transaction on the primary it is always the primary: what
    the transaction wrote, or what it locked, is not on the replica (and never will be, if it
    rolls back), so a read in it must see the primary's rows."""
    if not replica_configured() or connections[PRIMARY].in_atomic_block:
        return PRIMARY
    return REPLICA


class PrimaryRouter:
    """Reads and writes go to the primary unless a query names the replica (``.using``);
    writes always go to the primary, even of a row read from the replica; only the primary
    is migrated (the replica copies it, schema included)."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        # A relation of a row read from the replica is read there too (the same moment of
        # the data); anything else from the primary.
        instance = hints.get("instance")
        if isinstance(instance, Model) and instance._state.db == REPLICA:
            return REPLICA
        return PRIMARY

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return PRIMARY

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        # The replica holds the primary's rows: a row read there may refer to one here.
        return True

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool:
        return db == PRIMARY
