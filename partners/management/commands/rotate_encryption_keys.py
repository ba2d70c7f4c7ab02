from collections import Counter
from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.db.models import TextField, Value
from django.db.models.functions import Cast

from partners.crypto import EncryptedTextField, rotate_token, token_key_position

_BATCH = 500


def encrypted_columns() -> list[tuple[type[models.Model], list[str]]]:
    """Every EncryptedTextField of every installed app: a column left out here would still be
    under the old key when it is removed."""
    found = []
    for model in apps.get_models():
        columns = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if columns:
            found.append((model, columns))
    return found


def _raw_rows(
    model: type[models.Model], columns: list[str], pks: list[Any] | None = None
) -> Iterator[dict[str, Any]]:
    # Read the raw tokens: a Cast to a plain TextField skips the decrypting from_db_value.
    raw = {f"raw_{column}": Cast(column, TextField()) for column in columns}
    rows = (
        model._default_manager.all() if pks is None else model._default_manager.filter(pk__in=pks)
    )
    yield from rows.annotate(**raw).values("pk", *raw).iterator()


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value under the first key of SANPO_ENCRYPTION_KEYS. Run "
        "after prepending a new key; once it finishes (and --check agrees), the old key can be "
        "removed. Rows are rewritten in small batches, so the service keeps running. Refuses to "
        "start while any value opens with no configured key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; report how many values are under each key, and fail if any "
            "is not under the first key (so no other key may be removed yet).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        usage, unreadable = self._survey()
        if options["check"]:
            self._report(usage, unreadable)
            return
        if unreadable:
            listed = ", ".join(unreadable[:10])
            raise CommandError(
                f"Nothing was re-encrypted. No configured key opens {len(unreadable)} "
                f"value(s) ({listed}). Put the key they were encrypted under back in "
                "SANPO_ENCRYPTION_KEYS after the first, or replace them (rotate a webhook "
                "secret with no overlap), then run again."
            )
        for model, columns in encrypted_columns():
            rotated = self._rotate(model, columns)
            self.stdout.write(f"{model._meta.label}: re-encrypted {rotated} row(s)")

    def _survey(self) -> tuple[Counter[int], list[str]]:
        usage: Counter[int] = Counter()
        unreadable: list[str] = []
        for model, columns in encrypted_columns():
            for row in _raw_rows(model, columns):
                for column in columns:
                    if not (token := row[f"raw_{column}"]):
                        continue
                    position = token_key_position(token)
                    if position is None:
                        unreadable.append(f"{model._meta.label}.{column} of {row['pk']}")
                    else:
                        usage[position] += 1
        return usage, unreadable

    def _report(self, usage: Counter[int], unreadable: list[str]) -> None:
        for position in sorted(usage):
            which = "the current key" if position == 0 else f"key #{position + 1} in the list"
            self.stdout.write(f"{usage[position]} value(s) under {which}")
        if unreadable:
            self.stdout.write(f"{len(unreadable)} value(s) under no configured key:")
            for name in unreadable[:50]:
                self.stdout.write(f"  {name}")
        stale = sum(count for position, count in usage.items() if position) + len(unreadable)
        if stale:
            raise CommandError(
                f"{stale} value(s) are not under the first key: run rotate_encryption_keys "
                "before removing any key."
            )
        self.stdout.write("Every value is under the first key; the others may be removed.")

    def _rotate(self, model: type[models.Model], columns: list[str]) -> int:
        rotated = 0
        ids = list(model._default_manager.values_list("pk", flat=True))
        for start in range(0, len(ids), _BATCH):
            with transaction.atomic():
                batch = ids[start : start + _BATCH]
                list(model._default_manager.select_for_update().filter(pk__in=batch).values("pk"))
                for row in _raw_rows(model, columns, batch):
                    # A Value skips the encrypting get_prep_value.
                    tokens = {
                        column: Value(rotate_token(token), output_field=TextField())
                        for column in columns
                        if (token := row[f"raw_{column}"])
                    }
                    if tokens:
                        model._default_manager.filter(pk=row["pk"]).update(**tokens)
                        rotated += 1
        return rotated
