"""Verify a downloaded settlement statement with a public key alone: no database, no key but
the public one. The file is what GET /api/v1/settlement/periods/<id>/statement answered (JSON
with ``document``, ``signature``, ``key_id`` and ``sha256``); the public key is the one of that
``key_id`` served at GET /api/v1/settlement/signing-keys.

    manage.py verify_settlement_statement statement.json --public-key <urlsafe base64>

Exits 0 and says "valid" when the signature is the key's over the document (and the SHA-256 is
the document's); exits 1 otherwise."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from federation.settlement.signing import verify


class Command(BaseCommand):
    help = (
        "Verify a settlement statement downloaded from the API (its JSON answer) with the "
        "Ed25519 public key of its key_id; exit status 1 when it does not verify."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("statement", help="The statement endpoint's JSON answer, saved.")
        parser.add_argument("--public-key", required=True, help="urlsafe base64, 32 bytes.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            answer = json.loads(Path(options["statement"]).read_text(encoding="utf-8"))
            document, signature = answer["document"], answer["signature"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CommandError(f"Not a statement answer: {error}") from error
        digest = hashlib.sha256(document.encode("utf-8")).hexdigest()
        if answer.get("sha256") not in (None, digest):
            raise CommandError("invalid: the SHA-256 is not the document's")
        if not signature or not verify(document, signature, options["public_key"]):
            raise CommandError("invalid: the signature is not this key's over the document")
        self.stdout.write(f"valid: signed by key {answer.get('key_id', '?')}, sha256 {digest}")
