import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from partners.services import webhook_deliveries_attempt_due


class Command(BaseCommand):
    help = (
        "Make the due attempts of pending webhook deliveries now, in this process. For a "
        "machine without a Celery broker (make run starts it with --every); with one, workers "
        "and beat do this."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--every",
            type=float,
            default=0,
            metavar="SECONDS",
            help="Keep running, looking for due attempts this often (0: once, then exit).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        every: float = options["every"]
        if every <= 0:
            done = webhook_deliveries_attempt_due()
            self.stdout.write(
                f"{done.attempted} due deliveries attempted, {done.delivered} delivered."
            )
            return
        self.stdout.write(f"Making due webhook attempts every {every:g} s (Ctrl-C stops).")
        try:
            while True:
                self._round()
                close_old_connections()
                time.sleep(every)
        except KeyboardInterrupt:
            return

    def _round(self) -> None:
        try:
            done = webhook_deliveries_attempt_due()
        except DatabaseError as error:
            # SQLite busy beyond its timeout while make run seeds: the next round tries again.
            self.stderr.write(f"No due webhook attempts this round: {error}")
            return
        if done.attempted:
            self.stdout.write(
                f"{done.attempted} due deliveries attempted, {done.delivered} delivered."
            )
