"""Encryption at rest for small secrets and contact details.

Values are Fernet tokens (AES-128-CBC with HMAC-SHA256: authenticated) under the keys in
``SANPO_ENCRYPTION_KEYS``, newest first. Rotating means prepending a new key, running
``manage.py rotate_encryption_keys`` (which re-encrypts every value under the new key while
the old one still decrypts), then dropping the old key (``rotate_encryption_keys --check``
first says whether any value is still under it).

Reading back can fail in three ways that callers must tell apart (``UndecryptableError`` and
its subclasses, shared with ``partners.pii``): the data was erased on purpose, it does not
authenticate (altered, or copied from another row or column), or its key is not configured.
"""

from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


class UndecryptableError(Exception):
    """A stored ciphertext cannot be read back. Catch a subclass to answer each cause."""

    def __init__(self, message: str, *, location: str = "") -> None:
        super().__init__(message)
        # Where the value is stored ("partners.WebhookSecret.secret") and, when the reader
        # knows it, the row: for the audit event a caller writes.
        self.location = location
        self.target: models.Model | None = None


class DataErasedError(UndecryptableError):
    """The data key was destroyed on purpose (an erasure): there is nothing to read."""


class DataIntegrityError(UndecryptableError):
    """The ciphertext does not authenticate under its key: it was altered, or copied from
    another row or column. A security event, never an empty value."""


class DataKeyUnavailableError(UndecryptableError):
    """The value is encrypted under a key that is no longer configured."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.SANPO_ENCRYPTION_KEYS))


def encrypt_text(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt_text(token: str, *, location: str = "") -> str:
    """The plaintext of a token. Raises DataKeyUnavailableError when no configured key opens
    it: a Fernet token names no key, so a removed key and an altered token look alike, and a
    removed key is by far the likelier (``rotate_encryption_keys --check`` tells)."""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DataKeyUnavailableError(
            "An encrypted value cannot be decrypted with any key in SANPO_ENCRYPTION_KEYS: it "
            "was encrypted under a key since removed, or altered.",
            location=location,
        ) from None


def rotate_token(token: str) -> str:
    return fernet().rotate(token.encode()).decode()


def token_key_position(token: str) -> int | None:
    """Which key of SANPO_ENCRYPTION_KEYS opens ``token`` (0 is the current one), or None if
    none does. For checks before a key is removed; reading goes through ``decrypt_text``."""
    for position, key in enumerate(settings.SANPO_ENCRYPTION_KEYS):
        try:
            Fernet(key).decrypt(token.encode())
        except InvalidToken:
            continue
        return position
    return None


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; Python code only ever sees the plaintext."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt_text(value, location=f"{self.model._meta.label}.{self.name}")

    def get_prep_value(self, value: Any) -> str | None:
        if value is None or value == "":
            return None if value is None else ""
        return encrypt_text(str(value))
