"""Range-partition the referral clicks by month of ``at`` (README, "Partitioning").

A conversion names its click; a foreign key into a partitioned table must name its whole
primary key, which becomes ``(id, at)``. So the conversion gets ``click_at``, the click's
``at`` (backfilled here, written by the conversion service from now on), Django's one-column
foreign key is dropped (``db_constraint=False``) and, on PostgreSQL, the table is rebuilt
partitioned and the composite key ``(click_id, click_at) -> (id, at)`` added: the database
still refuses a conversion naming a click that does not exist. A check makes ``click_at``
present exactly when ``click`` is (a composite key checks nothing when a column is null).

On SQLite (``make run``) the table stays plain, and the conversion's ``click`` has no
database constraint any more. The rebuild locks the clicks while it copies them: on a large
existing table run it in a maintenance window.
"""

from typing import Any

from django.db import migrations, models

from partners.partition_migrations import (
    add_composite_foreign_key,
    drop_foreign_key,
    partition_table,
    unpartition_table,
)

CLICKS = "federation_referralclick"
CONVERSIONS = "federation_referralconversion"
FOREIGN_KEY = "referrals_conversion_click_fk"
MONTHS_AHEAD = 3  # click_partitions.PARTITION_MONTHS_AHEAD at the time of writing


def backfill_click_at(apps: Any, schema_editor: Any) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {CONVERSIONS} SET click_at = "  # noqa: S608 - constants
            f"(SELECT c.at FROM {CLICKS} c WHERE c.id = {CONVERSIONS}.click_id) "
            "WHERE click_id IS NOT NULL"
        )


def partition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        partition_table(cursor, table=CLICKS, column="at", months_ahead=MONTHS_AHEAD)
        add_composite_foreign_key(
            cursor,
            table=CONVERSIONS,
            name=FOREIGN_KEY,
            columns=("click_id", "click_at"),
            target=CLICKS,
            target_columns=("id", "at"),
        )


def unpartition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        drop_foreign_key(cursor, table=CONVERSIONS, name=FOREIGN_KEY)
        unpartition_table(cursor, table=CLICKS, column="at")


class Migration(migrations.Migration):
    dependencies = [
        ("federation", "0016_campaign_holdout_members"),
    ]

    operations = [
        migrations.AddField(
            model_name="referralconversion",
            name="click_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="clicked at"
            ),
        ),
        migrations.RunPython(backfill_click_at, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="referralconversion",
            name="click",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="+",
                to="federation.referralclick",
                verbose_name="click",
            ),
        ),
        migrations.AddIndex(
            model_name="referralconversion",
            index=models.Index(
                condition=models.Q(click_at__isnull=False),
                fields=["click_at"],
                name="referrals_conv_click_at",
            ),
        ),
        migrations.AddConstraint(
            model_name="referralconversion",
            constraint=models.CheckConstraint(
                condition=models.Q(click__isnull=True, click_at__isnull=True)
                | models.Q(click__isnull=False, click_at__isnull=False),
                name="referrals_conversion_click_at_with_click",
            ),
        ),
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
