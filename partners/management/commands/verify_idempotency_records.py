"""Verify the stored Idempotency-Key records: each complete and consistent with the code that
writes them (partners.services.idempotency). Exit status 1, naming the offending ids, when any
record breaks an invariant."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from partners.models import IdempotencyKey
from partners.selectors import idempotency_records_verify


class Command(BaseCommand):
    help = (
        "Check every stored Idempotency-Key record: a POST's key of the accepted form with its "
        "request digest; a completed one with its stored answer and time; one in progress "
        "with none; none kept past its TTL. Exits non-zero with the offending ids."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        checked = IdempotencyKey.objects.count()
        problems = idempotency_records_verify()
        for found in problems:
            hidden = found.count - len(found.ids)
            more = f" and {hidden} more" if hidden else ""
            ids = ", ".join(str(pk) for pk in found.ids)
            self.stdout.write(f"{found.problem}: {found.count} record(s), ids {ids}{more}")
        damaged = sorted({pk for found in problems for pk in found.ids})
        self.stdout.write(
            f"{checked:,} idempotency record(s) checked, {len(problems)} invariant(s) broken."
        )
        if problems:
            raise CommandError(f"Broken idempotency records: ids {', '.join(map(str, damaged))}.")
