from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from partners.actors import Actor
from partners.crypto import UndecryptableError
from partners.errors import ApplicationError
from partners.services import audit_undecryptable
from partners.services.member_keys import (
    member_blind_indexes_rotate,
    member_key_usage,
    member_master_keys_rotate,
)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = (
        "After prepending a new key to SANPO_MEMBER_MASTER_KEYS (--master) or "
        "SANPO_BLIND_INDEX_KEYS (--blind-index), bring every member account under it, a batch at "
        "a time while the service runs. Then the old key can be removed from settings; "
        "--check says whether any account is still under it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--master", action="store_true", help="Re-wrap member data keys.")
        parser.add_argument(
            "--blind-index", action="store_true", help="Recompute e-mail and phone indexes."
        )
        parser.add_argument("--batch-size", type=_positive, default=1000)
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; report the accounts under each key and fail if any is under "
            "a key other than the first (which therefore may not be removed yet).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["check"]:
            self._check()
            return
        try:
            self._rotate(options)
        except ApplicationError as error:
            raise CommandError(error.message) from None
        except UndecryptableError as error:
            # The batch rolled back; the record of what stopped it must not.
            audit_undecryptable(error=error, actor=Actor.system(), detail={"command": __name__})
            target = f" (account {error.target.pk})" if error.target is not None else ""
            raise CommandError(
                f"Stopped{target}: {error} The batch it was in is unchanged; see the "
                "audit log and the account before running again."
            ) from None

    def _check(self) -> None:
        stale = 0
        usage = member_key_usage()
        for kind, setting in (
            ("master", "SANPO_MEMBER_MASTER_KEYS"),
            ("blind_index", "SANPO_BLIND_INDEX_KEYS"),
        ):
            configured = [key_id for key_id, _ in getattr(settings, setting)]
            for key_id, count in sorted(usage[kind].items()):
                if key_id == configured[0]:
                    state = "current"
                elif key_id in configured:
                    state = "old: rotate before removing it"
                else:
                    state = "NOT CONFIGURED: this data cannot be read"
                self.stdout.write(f"{setting} {key_id!r}: {count:,} account(s), {state}")
                stale += count if key_id != configured[0] else 0
        if stale:
            raise CommandError(
                f"{stale:,} account key(s) are not under the first key: run rotate_member_keys "
                "before removing any key."
            )
        self.stdout.write("Every account is under the first keys; the others may be removed.")

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
