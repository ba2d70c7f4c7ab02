"""What the holdout domain adds to the registries below it, from ``FederationConfig.ready``:
its audit action, and the bucket function SQLite lacks (PostgreSQL computes it with md5)."""

from typing import Any

from django.db.backends.signals import connection_created

from federation.holdouts.audit import HoldoutAuditAction
from federation.holdouts.selectors import bucket
from partners.audit_actions import register_audit_actions


def _sqlite_bucket(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("sanpo_bucket", 2, bucket, deterministic=True)


def register() -> None:
    register_audit_actions(HoldoutAuditAction)
    connection_created.connect(_sqlite_bucket, dispatch_uid="holdouts.sqlite_bucket")
