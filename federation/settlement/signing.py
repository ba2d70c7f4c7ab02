"""Ed25519 signatures of issued statements. The signed message is the statement's canonical
JSON document, as UTF-8 bytes; a signature is urlsafe base64 of its 64 bytes and names the key
(``key_id``) whose public half verifies it. Keys come from ``SANPO_SETTLEMENT_SIGNING_KEYS``
(newest first: the first signs, all stay published), so a key can be rotated without making
older statements unverifiable.

``verify`` needs nothing but the document, the signature and the public key: the command
``manage.py verify_settlement_statement`` and any partner's own tooling can run it offline."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings


@dataclass(frozen=True)
class Signature:
    key_id: str
    value: str  # urlsafe base64 of the 64-byte Ed25519 signature


def _private(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def sign(document: str) -> Signature:
    """``document`` signed with the newest key."""
    key_id, seed = settings.SANPO_SETTLEMENT_SIGNING_KEYS[0]
    return Signature(key_id, _b64(_private(seed).sign(document.encode("utf-8"))))


def public_keys() -> list[dict[str, str]]:
    """Every signing key's public half: ``{"key_id", "algorithm", "public_key"}`` (urlsafe
    base64 of the 32 raw bytes), newest first."""
    return [
        {
            "key_id": key_id,
            "algorithm": "Ed25519",
            "public_key": _b64(
                _private(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            ),
        }
        for key_id, seed in settings.SANPO_SETTLEMENT_SIGNING_KEYS
    ]


def verify(document: str, signature: str, public_key: str) -> bool:
    """Whether ``signature`` (urlsafe base64) is ``public_key``'s (urlsafe base64 of 32 raw
    bytes) over ``document``'s UTF-8 bytes. Malformed input is simply not a valid signature."""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(public_key))
        key.verify(base64.urlsafe_b64decode(signature), document.encode("utf-8"))
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True
