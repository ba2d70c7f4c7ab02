"""Give each coin entry its transaction's ``posted_at`` and range-partition the entries by
month of it (README, "Partitioning").

1. The unique key (account, account_version) cannot be declared on a partitioned table without
   ``posted_at``, and widened with it it would say nothing. It is dropped, and comes back as a
   plain index; ``post`` keeps it (each version is given once, under the account's row lock)
   and ``ledger_verify`` checks it over the whole table.
2. ``posted_at`` is added, copied from the transaction for the entries already written (the
   append-only trigger is set aside for that one UPDATE), then made NOT NULL.
3. On PostgreSQL the table is rebuilt partitioned (``partners.partition_migrations``); its
   primary key becomes (id, posted_at). The triggers went with the old table and are made again
   on the new one; the commit-time balance check now reads a transaction's entries at its
   ``posted_at`` (one partition, not every one), so an entry stamped with another time than
   its transaction's leaves the transaction unbalanced and is refused. Nothing has a foreign key
   into the entries. On SQLite the table stays plain.
"""

from typing import Any

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

from partners.partition_migrations import is_partitioned, partition_table, unpartition_table

TABLE = "federation_coinentry"
COLUMN = "posted_at"
MONTHS_AHEAD = 3  # federation.coins.services.partitions.PARTITION_MONTHS_AHEAD when written

BACKFILL = """
ALTER TABLE federation_coinentry DISABLE TRIGGER sanpo_coins_entry_append_only;
UPDATE federation_coinentry AS e SET posted_at = t.posted_at
  FROM federation_cointransaction AS t
 WHERE t.id = e.transaction_id AND e.posted_at IS NULL;
ALTER TABLE federation_coinentry ENABLE TRIGGER sanpo_coins_entry_append_only;
"""

# The triggers of 0005 on the rebuilt table; the balance check pruned to the posting's month.
PARTITIONED_TRIGGERS = """
CREATE TRIGGER sanpo_coins_entry_append_only BEFORE UPDATE OR DELETE ON federation_coinentry
  FOR EACH ROW EXECUTE FUNCTION sanpo_coins_append_only();
CREATE FUNCTION sanpo_coins_check_balanced(tx uuid, at timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  total numeric;
  legs bigint;
BEGIN
  SELECT COALESCE(SUM(amount), 0), COUNT(*) INTO total, legs
    FROM federation_coinentry WHERE transaction_id = tx AND posted_at = at;
  IF total <> 0 OR legs < 2 THEN
    RAISE EXCEPTION 'coin transaction % does not balance: % coins over % entries posted at %',
      tx, total, legs, at USING ERRCODE = 'check_violation';
  END IF;
END $$;
CREATE OR REPLACE FUNCTION sanpo_coins_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM sanpo_coins_check_balanced(NEW.transaction_id, NEW.posted_at);
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION sanpo_coins_transaction_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM sanpo_coins_check_balanced(NEW.id, NEW.posted_at);
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER sanpo_coins_entry_balanced AFTER INSERT ON federation_coinentry
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sanpo_coins_entry_balanced();
"""

# Going back: 0005's triggers and functions on the plain table.
PLAIN_TRIGGERS = """
CREATE TRIGGER sanpo_coins_entry_append_only BEFORE UPDATE OR DELETE ON federation_coinentry
  FOR EACH ROW EXECUTE FUNCTION sanpo_coins_append_only();
CREATE OR REPLACE FUNCTION sanpo_coins_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM sanpo_coins_check_balanced(NEW.transaction_id);
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION sanpo_coins_transaction_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM sanpo_coins_check_balanced(NEW.id);
  RETURN NULL;
END $$;
DROP FUNCTION IF EXISTS sanpo_coins_check_balanced(uuid, timestamptz);
CREATE CONSTRAINT TRIGGER sanpo_coins_entry_balanced AFTER INSERT ON federation_coinentry
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sanpo_coins_entry_balanced();
"""


def backfill(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            _backfill(cursor)
        return
    entry = apps.get_model("federation", "CoinEntry")
    posting = apps.get_model("federation", "CoinTransaction")
    entry.objects.filter(posted_at__isnull=True).update(
        posted_at=Subquery(posting.objects.filter(pk=OuterRef("transaction_id")).values(COLUMN))
    )


def _backfill(cursor: Any) -> None:
    """The UPDATE rewrites every row, and keeping the indexes up to date row by row is most of
    its time (1,000,000 entries: 70 s with them, 16 s without), so they are dropped and built
    again afterwards (the primary key stays)."""
    cursor.execute(
        """
        SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
          JOIN pg_class c ON c.oid = i.indexrelid
         WHERE i.indrelid = %s::regclass AND NOT EXISTS (
               SELECT 1 FROM pg_constraint k
                WHERE k.conrelid = i.indrelid AND k.conindid = i.indexrelid)
        """,
        [TABLE],
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    cursor.execute(BACKFILL)
    for _, definition in indexes:
        cursor.execute(definition)


def partition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if is_partitioned(cursor, TABLE):
            return
        partition_table(cursor, table=TABLE, column=COLUMN, months_ahead=MONTHS_AHEAD)
        cursor.execute(PARTITIONED_TRIGGERS)


def unpartition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if not is_partitioned(cursor, TABLE):
            return
        unpartition_table(cursor, table=TABLE, column=COLUMN)
        cursor.execute(PLAIN_TRIGGERS)


class Migration(migrations.Migration):
    dependencies = [
        ("federation", "0017_partition_referral_clicks"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="coinentry",
            name="coins_entry_account_version",
        ),
        migrations.AddField(
            model_name="coinentry",
            name="posted_at",
            field=models.DateTimeField(null=True, verbose_name="posted at"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="coinentry",
            name="posted_at",
            field=models.DateTimeField(verbose_name="posted at"),
        ),
        migrations.AddIndex(
            model_name="coinentry",
            index=models.Index(fields=["account", "account_version"], name="coins_entry_version"),
        ),
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
