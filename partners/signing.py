"""Webhook signatures, for Sanpo's sender and for receivers (documented in the README).

Header ``Sanpo-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]``: HMAC-SHA256 under the
endpoint's signing secret over ``<event id>.<timestamp>.<raw body>``. During a secret rotation
there is one ``v1`` per live secret. Receivers check that one matches and that the timestamp is
recent, which defeats replays of an old delivery.
"""

import hashlib
import hmac
import time
from collections.abc import Iterable

DEFAULT_TOLERANCE_SECONDS = 300


def compute_signature(*, secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    message = f"{event_id}.{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(*, secrets: Iterable[str], event_id: str, timestamp: int, body: bytes) -> str:
    signatures = [
        compute_signature(secret=s, event_id=event_id, timestamp=timestamp, body=body)
        for s in secrets
    ]
    return ",".join([f"t={timestamp}", *(f"v1={sig}" for sig in signatures)])


def verify_signature(
    *,
    secret: str,
    header: str,
    event_id: str,
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when ``header`` carries a valid, fresh signature of ``body`` under ``secret``."""
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = compute_signature(secret=secret, event_id=event_id, timestamp=timestamp, body=body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
