"""Member personal data at rest: envelope encryption, blind indexes and pseudonymous ids.

Envelope encryption: each member account has its own random 256-bit data key. Every personal
field is sealed with AES-256-GCM under that key, with the account's natural key (partner and
member number) and the field name as associated data, so a ciphertext copied to another row or
another column fails to decrypt. The data key itself is stored wrapped (AES-256-GCM again) by a
master key from ``SANPO_MEMBER_MASTER_KEYS``; the row records which one. Destroying the wrapped
data key erases the member (crypto-shredding) without touching backups' readability of anyone
else; rotating the master key re-wraps 32-byte keys, never re-encrypts the data.

Blind indexes: keyed HMAC-SHA256 of the normalised e-mail and phone, so accounts of one person at
different partners can be matched by equality in SQL while the database alone reveals nothing.
Each index kind has its own sub-key derived with HKDF, so an e-mail index never equals a phone
index of the same string.

Pseudonymous ids: a member account as seen by one recipient partner is ``mp_`` followed by the
account id encrypted under that partner's own key (derived with HKDF from
``SANPO_PSEUDONYM_KEY``). Two partners get unrelated ids for one member, and an id presented to
another partner's endpoint decrypts to an id that does not exist.
"""

from __future__ import annotations

import base64
import hmac
import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from hashlib import sha256

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from partners.crypto import DataErasedError as DataErasedError
from partners.crypto import DataIntegrityError as DataIntegrityError
from partners.crypto import DataKeyUnavailableError as DataKeyUnavailableError
from partners.crypto import UndecryptableError as UndecryptableError
from partners.member_columns import PERSONAL_FIELDS

_NONCE = 12
_AAD_VERSION = b"sanpo/member/v1"
_INDEX_BYTES = 16


def _aad_prefix(partner_id: uuid.UUID, member_number: str) -> bytes:
    # Associated data is b"sanpo/member/v1|<partner id bytes>|<member number>|<field>".
    return b"|".join((_AAD_VERSION, partner_id.bytes, member_number.encode(), b""))


def _aad(partner_id: uuid.UUID, member_number: str, field: str) -> bytes:
    return _aad_prefix(partner_id, member_number) + field.encode()


_FIELD_BYTES = tuple(field.encode() for field in PERSONAL_FIELDS)


@cache
def _aead(key: bytes) -> AESGCM:
    return AESGCM(key)


def current_master_key_id() -> str:
    key_id: str = settings.SANPO_MEMBER_MASTER_KEYS[0][0]
    return key_id


def _master_key(key_id: str) -> bytes:
    for candidate, key in settings.SANPO_MEMBER_MASTER_KEYS:
        if candidate == key_id:
            return bytes(key)
    raise DataKeyUnavailableError(
        f"Master key {key_id!r} is not in SANPO_MEMBER_MASTER_KEYS; it was removed before every "
        "data key was re-wrapped (run `manage.py rotate_member_keys --master` first).",
        location="wrapped_key",
    )


@dataclass(frozen=True)
class SealedRecord:
    """What is stored for one member account's personal data."""

    master_key_id: str
    wrapped_key: bytes
    ciphertexts: dict[str, bytes | None]


def seal(
    *, partner_id: uuid.UUID, member_number: str, values: Mapping[str, str | None]
) -> SealedRecord:
    """Encrypt the personal fields of one account under a fresh data key.

    Fields missing from ``values`` or empty are stored as None (nothing to protect). One call to
    the OS random source supplies the key and every nonce, which matters at a million rows.
    """
    random = os.urandom(32 + _NONCE * (len(PERSONAL_FIELDS) + 1))
    data_key, nonces = random[:32], random[32:]
    encrypt = AESGCM(data_key).encrypt
    prefix = _aad_prefix(partner_id, member_number)
    ciphertexts: dict[str, bytes | None] = {}
    for position, field in enumerate(PERSONAL_FIELDS):
        plaintext = values.get(field)
        if not plaintext:
            ciphertexts[field] = None
            continue
        nonce = nonces[position * _NONCE : (position + 1) * _NONCE]
        aad = prefix + _FIELD_BYTES[position]
        ciphertexts[field] = nonce + encrypt(nonce, plaintext.encode(), aad)
    key_id = current_master_key_id()
    wrap_nonce = nonces[-_NONCE:]
    wrapped = wrap_nonce + _aead(_master_key(key_id)).encrypt(
        wrap_nonce, data_key, prefix + b"data_key"
    )
    return SealedRecord(master_key_id=key_id, wrapped_key=wrapped, ciphertexts=ciphertexts)


def unwrap_data_key(
    *, partner_id: uuid.UUID, member_number: str, master_key_id: str, wrapped_key: bytes | None
) -> bytes:
    if not wrapped_key:
        raise DataErasedError("This member's data key has been destroyed (erased).")
    aad = _aad(partner_id, member_number, "data_key")
    try:
        return _aead(_master_key(master_key_id)).decrypt(
            wrapped_key[:_NONCE], wrapped_key[_NONCE:], aad
        )
    except InvalidTag:
        raise DataIntegrityError(
            "The data key does not belong to this member account or was tampered with.",
            location="wrapped_key",
        ) from None


def open_fields(
    *,
    partner_id: uuid.UUID,
    member_number: str,
    master_key_id: str,
    wrapped_key: bytes | None,
    ciphertexts: Mapping[str, bytes | memoryview | None],
) -> dict[str, str | None]:
    """Decrypt the given personal fields of one account.

    Raises DataErasedError (no data key: erased), DataKeyUnavailableError (its master key is
    not configured) or DataIntegrityError (the data key or a field does not authenticate as
    this account's: altered, or copied from another row or column)."""
    data_key = unwrap_data_key(
        partner_id=partner_id,
        member_number=member_number,
        master_key_id=master_key_id,
        wrapped_key=wrapped_key,
    )
    aead = AESGCM(data_key)
    plaintexts: dict[str, str | None] = {}
    for field, token in ciphertexts.items():
        if token is None:
            plaintexts[field] = None
            continue
        token = bytes(token)
        try:
            plaintext = aead.decrypt(
                token[:_NONCE], token[_NONCE:], _aad(partner_id, member_number, field)
            )
        except InvalidTag:
            raise DataIntegrityError(
                f"The {field} ciphertext does not belong to this member account and field.",
                location=f"{field}_sealed",
            ) from None
        plaintexts[field] = plaintext.decode()
    return plaintexts


def rewrap_data_key(
    *, partner_id: uuid.UUID, member_number: str, master_key_id: str, wrapped_key: bytes
) -> tuple[str, bytes]:
    """Re-wrap one data key under the current master key; the data stays as it is."""
    data_key = unwrap_data_key(
        partner_id=partner_id,
        member_number=member_number,
        master_key_id=master_key_id,
        wrapped_key=wrapped_key,
    )
    key_id = current_master_key_id()
    nonce = os.urandom(_NONCE)
    wrapped = nonce + _aead(_master_key(key_id)).encrypt(
        nonce, data_key, _aad(partner_id, member_number, "data_key")
    )
    return key_id, wrapped


# --- Blind indexes --------------------------------------------------------------------------


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


@cache
def _index_subkey(key: bytes, kind: str) -> bytes:
    return _derive(key, b"sanpo/blind-index/v1/" + kind.encode())


def current_index_key_id() -> str:
    key_id: str = settings.SANPO_BLIND_INDEX_KEYS[0][0]
    return key_id


def index_key_ids() -> list[str]:
    return [key_id for key_id, _ in settings.SANPO_BLIND_INDEX_KEYS]


def _index_key(key_id: str) -> bytes:
    for candidate, key in settings.SANPO_BLIND_INDEX_KEYS:
        if candidate == key_id:
            return bytes(key)
    raise KeyError(f"Blind-index key {key_id!r} is not in SANPO_BLIND_INDEX_KEYS.")


class BlindIndexer:
    """Computes the blind indexes of normalised values under one configured key.

    Build one per batch: it resolves the sub-keys once, so each value costs one HMAC.
    """

    def __init__(self, key_id: str | None = None) -> None:
        self.key_id = key_id or current_index_key_id()
        key = _index_key(self.key_id)
        self._email_key = _index_subkey(key, "email")
        self._phone_key = _index_subkey(key, "phone")
        self._record_key = _index_subkey(key, "record")

    def email(self, normalised: str | None) -> bytes | None:
        if not normalised:
            return None
        return hmac.digest(self._email_key, normalised.encode(), "sha256")[:_INDEX_BYTES]

    def phone(self, normalised: str | None) -> bytes | None:
        if not normalised:
            return None
        return hmac.digest(self._phone_key, normalised.encode(), "sha256")[:_INDEX_BYTES]

    def record_digest(self, parts: Iterable[str]) -> bytes:
        """A keyed fingerprint of a whole normalised record, to tell unchanged rows on re-import
        without decrypting; keyed so it cannot be used to guess a member's data offline."""
        return hmac.digest(self._record_key, "\x1f".join(parts).encode(), sha256)[:_INDEX_BYTES]


# --- Pseudonymous ids -----------------------------------------------------------------------

PSEUDONYM_PREFIX = "mp_"


def _pseudonym_cipher(recipient_id: uuid.UUID) -> Cipher[modes.ECB]:
    return _pseudonym_cipher_for(bytes(settings.SANPO_PSEUDONYM_KEY), recipient_id)


@cache
def _pseudonym_cipher_for(secret: bytes, recipient_id: uuid.UUID) -> Cipher[modes.ECB]:
    key = _derive(secret, b"sanpo/pseudonym/v1/" + recipient_id.bytes)
    # One AES block over a unique 128-bit id is a keyed pseudo-random permutation: exactly a
    # reversible, unlinkable pseudonym. ECB is safe here because every input is a distinct
    # single block; no pattern can repeat.
    return Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305


def pseudonym_for(member_id: uuid.UUID, recipient_id: uuid.UUID) -> str:
    """The stable id under which ``recipient_id``'s partner knows member account ``member_id``."""
    encryptor = _pseudonym_cipher(recipient_id).encryptor()
    block = encryptor.update(member_id.bytes) + encryptor.finalize()
    return PSEUDONYM_PREFIX + base64.b32encode(block).decode().rstrip("=").lower()


def member_id_from_pseudonym(pseudonym: str, recipient_id: uuid.UUID) -> uuid.UUID | None:
    """The member account id behind a recipient's pseudonym, or None if it is not well formed.

    An id issued to another partner decodes to a random id that matches no account; callers look
    it up like any other id and answer 404, which reveals nothing.
    """
    if not pseudonym.startswith(PSEUDONYM_PREFIX) or len(pseudonym) != len(PSEUDONYM_PREFIX) + 26:
        return None
    try:
        block = base64.b32decode(pseudonym[len(PSEUDONYM_PREFIX) :].upper() + "======")
    except ValueError:
        return None
    if len(block) != 16:
        return None
    decryptor = _pseudonym_cipher(recipient_id).decryptor()
    member_id = uuid.UUID(bytes=decryptor.update(block) + decryptor.finalize())
    # Base32 has spare bits and two cases: only the exact spelling we issued resolves, so one
    # member never appears under several ids.
    if pseudonym_for(member_id, recipient_id) != pseudonym:
        return None
    return member_id
