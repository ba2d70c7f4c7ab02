"""Range-partition webhook deliveries and their attempts by month (README, "Partitioning").

Deliveries are partitioned by their ``created_at``; each attempt gets a copy of its delivery's
``created_at`` (``delivery_created_at``, filled here from the delivery, and by the service that
writes attempts) and the attempts are partitioned by that, so the same month of both can be
dropped together. A foreign key into a partitioned table must name its whole primary key,
``(id, created_at)``: Django's single-column constraint goes (``db_constraint=False``) and a
composite one on ``(delivery_id, delivery_created_at)`` takes its place, so the database still
refuses an attempt of no delivery. The unique ``(delivery, number)`` must hold the partition
key too; it is widened by ``delivery_created_at``, which the delivery determines, so it still
says one attempt of each number per delivery. That key and the composite one's index both
start with ``delivery_id``, so Django's index on that column alone goes.

The partitioning itself is PostgreSQL only (``partners.partition_migrations``, frozen); on
SQLite (``make run``) the tables stay plain, with the new column and constraint.
"""

from typing import Any

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

from partners.partition_migrations import (
    add_composite_foreign_key,
    drop_foreign_key,
    partition_table,
    unpartition_table,
)

DELIVERIES = "partners_webhookdelivery"
ATTEMPTS = "partners_webhookattempt"
FOREIGN_KEY = "partners_webhookattempt_delivery_fk"
MONTHS_AHEAD = 3  # partners.services.webhook_retention.PARTITION_MONTHS_AHEAD when written


def copy_delivery_created_at(apps: Any, schema_editor: Any) -> None:
    attempt = apps.get_model("partners", "WebhookAttempt")
    delivery = apps.get_model("partners", "WebhookDelivery")
    created_at = delivery.objects.filter(pk=OuterRef("delivery_id")).values("created_at")[:1]
    attempt.objects.update(delivery_created_at=Subquery(created_at))


def partition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        partition_table(cursor, table=DELIVERIES, column="created_at", months_ahead=MONTHS_AHEAD)
        partition_table(
            cursor, table=ATTEMPTS, column="delivery_created_at", months_ahead=MONTHS_AHEAD
        )
        add_composite_foreign_key(
            cursor,
            table=ATTEMPTS,
            name=FOREIGN_KEY,
            columns=("delivery_id", "delivery_created_at"),
            target=DELIVERIES,
            target_columns=("id", "created_at"),
        )


def unpartition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        drop_foreign_key(cursor, table=ATTEMPTS, name=FOREIGN_KEY)
        unpartition_table(cursor, table=ATTEMPTS, column="delivery_created_at")
        unpartition_table(cursor, table=DELIVERIES, column="created_at")


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0012_outbox_request_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookattempt",
            name="delivery_created_at",
            field=models.DateTimeField(
                editable=False, null=True, verbose_name="delivery created at"
            ),
        ),
        migrations.RunPython(copy_delivery_created_at, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="webhookattempt",
            name="delivery_created_at",
            field=models.DateTimeField(editable=False, verbose_name="delivery created at"),
        ),
        migrations.AlterField(
            model_name="webhookattempt",
            name="delivery",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=models.deletion.CASCADE,
                related_name="attempts",
                to="partners.webhookdelivery",
                verbose_name="delivery",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="webhookattempt",
            name="partners_webhookattempt_unique_number",
        ),
        migrations.AddConstraint(
            model_name="webhookattempt",
            constraint=models.UniqueConstraint(
                fields=("delivery", "number", "delivery_created_at"),
                name="partners_webhookattempt_unique_number",
            ),
        ),
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
