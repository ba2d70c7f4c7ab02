from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import TextField, Value
from django.db.models.functions import Cast

from partners.crypto import rotate_token
from partners.models import PartnerContact, WebhookSecret

# (model, encrypted columns): every EncryptedTextField in the project.
ENCRYPTED: list[tuple[type[Any], list[str]]] = [
    (PartnerContact, ["name", "email", "phone"]),
    (WebhookSecret, ["secret"]),
]


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value under the first key of SANPO_ENCRYPTION_KEYS. Run "
        "after prepending a new key; once it finishes, the old key can be removed. Rows are "
        "rewritten in small batches, so the service keeps running."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for model, columns in ENCRYPTED:
            rotated = 0
            # Read and write the raw tokens: a Cast to a plain TextField skips the decrypting
            # from_db_value, and a Value skips the encrypting get_prep_value.
            raw = {f"raw_{column}": Cast(column, TextField()) for column in columns}
            ids = list(model.objects.values_list("pk", flat=True))
            for start in range(0, len(ids), 500):
                with transaction.atomic():
                    rows = model.objects.select_for_update().filter(pk__in=ids[start : start + 500])
                    for row in rows.annotate(**raw).values("pk", *raw):
                        tokens = {
                            column: Value(rotate_token(token), output_field=TextField())
                            for column in columns
                            if (token := row[f"raw_{column}"])
                        }
                        if tokens:
                            model.objects.filter(pk=row["pk"]).update(**tokens)
                            rotated += 1
            self.stdout.write(f"{model._meta.label}: re-encrypted {rotated} row(s)")
