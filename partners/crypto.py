"""Encryption at rest for small secrets and contact details.

Values are Fernet tokens (AES-128-CBC with HMAC-SHA256: authenticated) under the keys in
``SANPO_ENCRYPTION_KEYS``, newest first. Rotating means prepending a new key, running
``manage.py rotate_encryption_keys`` (which re-encrypts every value under the new key while
the old one still decrypts), then dropping the old key.
"""

from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.SANPO_ENCRYPTION_KEYS))


def encrypt_text(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt_text(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError(
            "An encrypted value cannot be decrypted with any key in SANPO_ENCRYPTION_KEYS."
        ) from None


def rotate_token(token: str) -> str:
    return fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; Python code only ever sees the plaintext."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt_text(value)

    def get_prep_value(self, value: Any) -> str | None:
        if value is None or value == "":
            return None if value is None else ""
        return encrypt_text(str(value))
