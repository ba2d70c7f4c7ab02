from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from partners.actors import Actor
from partners.errors import ApplicationError
from partners.services.member_keys import member_blind_indexes_rotate, member_master_keys_rotate


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = (
        "After prepending a new key to SANPO_MEMBER_MASTER_KEYS (--master) or "
        "SANPO_BLIND_INDEX_KEYS (--blind-index), bring every member account under it, a batch at "
        "a time while the service runs. Then the old key can be removed from settings."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--master", action="store_true", help="Re-wrap member data keys.")
        parser.add_argument(
            "--blind-index", action="store_true", help="Recompute e-mail and phone indexes."
        )
        parser.add_argument("--batch-size", type=_positive, default=1000)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._rotate(options)
        except ApplicationError as error:
            raise CommandError(error.message) from None

    def _rotate(self, options: dict[str, Any]) -> None:
        if not options["master"] and not options["blind_index"]:
            options["master"] = options["blind_index"] = True

        def progress(done: int) -> None:
            self.stderr.write(f"  {done:,} accounts")

        if options["master"]:
            count = member_master_keys_rotate(
                actor=Actor.system(), batch_size=options["batch_size"], progress=progress
            )
            self.stdout.write(f"Re-wrapped {count:,} member data key(s) under the current key.")
        if options["blind_index"]:
            count = member_blind_indexes_rotate(
                actor=Actor.system(), batch_size=options["batch_size"], progress=progress
            )
            self.stdout.write(f"Re-indexed {count:,} member account(s) under the current key.")
