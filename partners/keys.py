"""The API key format: ``sanpo_<lookup>_<secret><checksum>``.

The lookup part finds the row without scanning; only a SHA-256 digest of the whole key is
stored, and digests are compared in constant time. A CRC32 checksum lets a client or a secret
scanner reject a mistyped or truncated key without asking the server (the scheme GitHub uses).
The secret carries 190 bits of entropy, so a plain hash is as strong as a slow one here.
"""

import hashlib
import hmac
import secrets
import string
import zlib
from dataclasses import dataclass

KEY_PREFIX = "sanpo"
_ALPHABET = string.digits + string.ascii_letters
LOOKUP_LENGTH = 10
SECRET_LENGTH = 32
CHECKSUM_LENGTH = 6


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(_ALPHABET[remainder])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class ParsedKey:
    lookup: str
    plaintext: str

    @property
    def digest(self) -> str:
        return digest_key(self.plaintext)


def generate_key() -> ParsedKey:
    lookup = _random(LOOKUP_LENGTH)
    body = f"{KEY_PREFIX}_{lookup}_{_random(SECRET_LENGTH)}"
    return ParsedKey(lookup=lookup, plaintext=body + _checksum(body))


def derive_key(secret: bytes, label: str) -> ParsedKey:
    """A well-formed key that is a pure function of ``secret`` and ``label`` (HMAC-SHA512).

    Only for demo keys on a development machine, where the secret is the public development
    SECRET_KEY, so the README can show keys that work on every fresh demo. Never for a key a
    real partner holds: whoever knows the secret knows the key."""
    digest = int.from_bytes(hmac.new(secret, label.encode(), hashlib.sha512).digest(), "big")
    lookup = _base62(digest, LOOKUP_LENGTH)
    body = f"{KEY_PREFIX}_{lookup}_{_base62(digest // 62**LOOKUP_LENGTH, SECRET_LENGTH)}"
    return ParsedKey(lookup=lookup, plaintext=body + _checksum(body))


def parse_key(plaintext: str) -> ParsedKey | None:
    """Return the parsed key, or None when it is not a well-formed Sanpo key."""
    parts = plaintext.split("_")
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    lookup, tail = parts[1], parts[2]
    if len(lookup) != LOOKUP_LENGTH or len(tail) != SECRET_LENGTH + CHECKSUM_LENGTH:
        return None
    if not all(ch in _ALPHABET for ch in lookup + tail):
        return None
    body = plaintext[:-CHECKSUM_LENGTH]
    if not hmac.compare_digest(_checksum(body), plaintext[-CHECKSUM_LENGTH:]):
        return None
    return ParsedKey(lookup=lookup, plaintext=plaintext)


def digest_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def digests_match(stored_digest: str, plaintext: str) -> bool:
    return hmac.compare_digest(stored_digest, digest_key(plaintext))
