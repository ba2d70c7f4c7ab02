"""Range-partition the consent events by month of ``recorded_at`` (README, "Partitioning").

A partitioned table's keys must hold the partition key, so first:

- consent states, withdrawal notices and provision records, which point to an event, get a copy
  of the event's ``recorded_at`` (filled here from the event, by the services afterwards); their
  foreign keys lose the constraint Django keeps, and the database checks the pair
  ``(event, event's recorded_at)`` against the events' key ``(id, recorded_at)`` instead;
- ``hash`` and ``(member, sequence)`` stop being declared unique (they would be unique per month
  only): the appends are serialised by the member's row lock, and the chain verification
  reports a duplicate of either over the whole table. ``(member, sequence)`` keeps an index.

The partitioning itself is PostgreSQL only; on SQLite (``make run``) the table stays plain, the
copies are still filled. It locks the tables while it copies: a maintenance window on a large
table.
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

from partners.partition_migrations import (
    add_composite_foreign_key,
    drop_foreign_key,
    partition_table,
    unpartition_table,
)

TABLE = "consent_consentevent"
COLUMN = "recorded_at"
MONTHS_AHEAD = 3  # consent.services.provisions.PARTITION_MONTHS_AHEAD at the time of writing
# (referencing table, foreign-key column, its copy of recorded_at, constraint name)
REFERENCES = [
    ("consent_consentstate", "event_id", "event_recorded_at", "consent_consentstate_event_fk"),
    (
        "consent_withdrawalnotice",
        "event_id",
        "event_recorded_at",
        "consent_withdrawalnotice_event_fk",
    ),
    (
        "consent_provisionrecord",
        "consent_event_id",
        "consent_event_recorded_at",
        "consent_provisionrecord_consent_event_fk",
    ),
]
# These already have a unique index on the event: the pair's index would only slow writes.
ONE_TO_ONE = {"consent_consentstate", "consent_withdrawalnotice"}


def backfill(apps: Any, schema_editor: Any) -> None:
    """Copy each referenced event's ``recorded_at`` into the rows that point to it."""
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table, key, copy, _name in REFERENCES:
                cursor.execute(
                    f"UPDATE {table} r SET {copy} = e.recorded_at "  # noqa: S608 - constants
                    f"FROM {TABLE} e WHERE e.id = r.{key}"
                )
            # Run the deferred checks of the rows just updated now: a table with checks
            # pending cannot be altered later in this transaction.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        return
    event = apps.get_model("consent", "ConsentEvent").objects.filter(pk=OuterRef("event_id"))
    recorded_at = Subquery(event.values("recorded_at")[:1])
    for name in ("ConsentState", "WithdrawalNotice"):
        apps.get_model("consent", name).objects.update(event_recorded_at=recorded_at)
    relied_on = apps.get_model("consent", "ConsentEvent").objects.filter(
        pk=OuterRef("consent_event_id")
    )
    apps.get_model("consent", "ProvisionRecord").objects.update(
        consent_event_recorded_at=Subquery(relied_on.values("recorded_at")[:1])
    )


def partition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        partition_table(cursor, table=TABLE, column=COLUMN, months_ahead=MONTHS_AHEAD)
        for table, key, copy, name in REFERENCES:
            add_composite_foreign_key(
                cursor,
                table=table,
                name=name,
                columns=(key, copy),
                target=TABLE,
                target_columns=("id", COLUMN),
            )
            if table in ONE_TO_ONE:
                cursor.execute(f"DROP INDEX {name}_idx")


def unpartition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, _key, _copy, name in REFERENCES:
            drop_foreign_key(cursor, table=table, name=name)
        unpartition_table(cursor, table=TABLE, column=COLUMN)


def _recorded_at(name: str, *, null: bool) -> models.DateTimeField:
    return models.DateTimeField(name, null=null)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0008_partition_provision_records"),
    ]

    operations = [
        # The copies of the event's recorded_at, filled, then required.
        migrations.AddField(
            model_name="consentstate",
            name="event_recorded_at",
            field=_recorded_at("event recorded at", null=True),
        ),
        migrations.AddField(
            model_name="withdrawalnotice",
            name="event_recorded_at",
            field=_recorded_at("event recorded at", null=True),
        ),
        migrations.AddField(
            model_name="provisionrecord",
            name="consent_event_recorded_at",
            field=_recorded_at("consent recorded at", null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="consentstate",
            name="event_recorded_at",
            field=_recorded_at("event recorded at", null=False),
        ),
        migrations.AlterField(
            model_name="withdrawalnotice",
            name="event_recorded_at",
            field=_recorded_at("event recorded at", null=False),
        ),
        migrations.AlterField(
            model_name="provisionrecord",
            name="consent_event_recorded_at",
            field=_recorded_at("consent recorded at", null=False),
        ),
        # Django's single-column foreign keys go; the composite ones come after partitioning.
        migrations.AlterField(
            model_name="consentstate",
            name="event",
            field=models.OneToOneField(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="consent.consentevent",
                verbose_name="event",
            ),
        ),
        migrations.AlterField(
            model_name="withdrawalnotice",
            name="event",
            field=models.OneToOneField(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="withdrawal_notice",
                to="consent.consentevent",
                verbose_name="withdrawal event",
            ),
        ),
        migrations.AlterField(
            model_name="provisionrecord",
            name="consent_event",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="consent.consentevent",
                verbose_name="consent relied on",
            ),
        ),
        # The unique keys without recorded_at: kept by the lock and the verification instead.
        migrations.RemoveConstraint(
            model_name="consentevent",
            name="consent_event_member_sequence",
        ),
        migrations.AlterField(
            model_name="consentevent",
            name="hash",
            field=models.CharField(max_length=64, verbose_name="hash"),
        ),
        migrations.AddIndex(
            model_name="consentevent",
            index=models.Index(fields=["member", "sequence"], name="consent_event_member_seq"),
        ),
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
