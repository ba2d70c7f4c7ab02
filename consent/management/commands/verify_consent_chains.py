from typing import Any

from django.core.management.base import BaseCommand, CommandError

from consent.services import chains_verify_all


class Command(BaseCommand):
    help = (
        "Check every member's consent chain and report the first broken link of each: an event "
        "changed, reordered or deleted after it was written. Records the run for the compliance "
        "pages. Exits non-zero if any chain is broken."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        run = chains_verify_all()
        for found in run.breaks:
            self.stdout.write(
                f"{found['partner']} {found['member_number']}: event #{found['sequence']} "
                f"{found['problem']}"
            )
        self.stdout.write(f"{run.chains_checked} chain(s) checked, {len(run.breaks)} broken.")
        if run.breaks:
            raise CommandError(f"{len(run.breaks)} broken consent chain(s).")
