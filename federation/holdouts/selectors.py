"""Who is held out: the same assignment in Python and in SQL.

A member's bucket is the first 32 bits of ``md5(seed || ':' || id)``; the member is held out
when the bucket is below ``percent`` of 2**32. MD5 serves as a fixed, well-spread hash here,
not for secrecy: the seed is recorded so that anyone can reproduce the assignment."""

from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal
from typing import Any

from django.db import connection

from federation.holdouts.models import Holdout

BUCKETS = 2**32


def subject_text(subject_id: object) -> str:
    """The id as PostgreSQL casts it to text: a number's digits, a UUID with its hyphens
    (SQLite stores UUIDs as 32 hex digits, which come back hyphenated here)."""
    if isinstance(subject_id, str) and len(subject_id) == 32:
        try:
            return str(uuid.UUID(hex=subject_id))
        except ValueError:
            return subject_id
    return str(subject_id)


def bucket(seed: str, subject_id: object) -> int:
    text = f"{seed}:{subject_text(subject_id)}"
    return int(hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()[:8], 16)


def threshold(percent: Decimal) -> int:
    """Buckets below this are held out: ``percent`` of 2**32, rounded down."""
    return int(Decimal(percent) * BUCKETS // 100)


def is_held_out(holdout: Holdout | None, subject_id: object) -> bool:
    """Whether ``subject_id`` (the id the programme's key names: a person for coin
    programmes, a member account for campaigns) is in ``holdout``; never without one."""
    if holdout is None:
        return False
    return bucket(holdout.seed, subject_id) < threshold(holdout.percent)


def holdout_named(key: str) -> Holdout | None:
    return Holdout.objects.filter(key=key).first()


def bucket_sql(column: str) -> str:
    """SQL for the bucket of ``column`` with the seed as its one parameter (``%s``), on
    PostgreSQL or on SQLite (where ``registrations`` adds the function)."""
    if connection.vendor == "postgresql":
        return f"('x' || substr(md5(%s || ':' || CAST({column} AS text)), 1, 8))::bit(32)::bigint"
    return f"sanpo_bucket(%s, {column})"


def held_out_sql(holdout: Holdout, column: str) -> tuple[str, list[Any]]:
    """A condition true for the held-out rows of ``column``, with its parameters."""
    return f"{bucket_sql(column)} < %s", [holdout.seed, threshold(holdout.percent)]
