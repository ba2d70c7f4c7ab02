import base64
import os
from typing import Any

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Print a new key. Without options: a Fernet key for SANPO_ENCRYPTION_KEYS. With "
        "--member-key ID: an <id>:<key> entry for SANPO_MEMBER_MASTER_KEYS or "
        "SANPO_BLIND_INDEX_KEYS. With --pseudonym-key: a SANPO_PSEUDONYM_KEY. Put a new key first "
        "in its list to start using it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--member-key", metavar="ID", help="A short label, e.g. 2026b.")
        parser.add_argument("--pseudonym-key", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = base64.urlsafe_b64encode(os.urandom(32)).decode()
        if options["member_key"]:
            self.stdout.write(f"{options['member_key']}:{raw}")
        elif options["pseudonym_key"]:
            self.stdout.write(raw)
        else:
            self.stdout.write(Fernet.generate_key().decode())
