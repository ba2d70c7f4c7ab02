"""An existing database moves to the domain-shaped house without losing a row: migrate back to
the last schema before the reshaping, write rows the old way, migrate forward and read them
through today's models."""

from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("partners", "0006_integrity_audit_actions"), ("federation", "0003_overlap")]


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_reshaping_read_the_same_after() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Partner: Any = old.get_model("partners", "Partner")
    Group: Any = old.get_model("auth", "Group")
    Agreement: Any = old.get_model("federation", "Agreement")
    AuditEvent: Any = old.get_model("partners", "AuditEvent")
    host = Partner.objects.create(
        slug="old-host",
        name_ja="旧",
        name_latin="Old",
        kind="host",
        group=Group.objects.create(name="partner:old-host"),
    )
    Agreement.objects.create(title="Before the rooms", host=host, status="active")
    AuditEvent.objects.create(action="agreement.created", actor_label="system", partner=host)

    call_command("migrate", verbosity=0)

    from federation.models import Agreement as Now
    from partners.models import AuditEvent as NowAudit

    agreement = Now.objects.get(title="Before the rooms")
    assert agreement.host.slug == "old-host"
    event = NowAudit.objects.get(partner__slug="old-host")
    assert event.action_label == "Agreement created"
