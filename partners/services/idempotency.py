import hashlib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from partners.errors import ApplicationError, ErrorCode
from partners.models import IdempotencyKey, Partner


def _request_digest(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def idempotency_claim(
    *, partner: Partner, key: str, method: str, path: str, body: bytes
) -> IdempotencyKey:
    """Record that ``partner`` started the request named ``key``, or find the earlier one.

    The row is committed on its own, before the request runs, so a concurrent duplicate finds
    it. Raises ApplicationError(idempotency_key_reused) when the key was used for another
    method, path or body.
    """
    digest = _request_digest(method, path, body)
    # The digest covers the whole path; the column only shows it, so a path longer than the
    # column (a junk id in the URL) is cut rather than failing the INSERT with a 500.
    shown_path = path[: IdempotencyKey._meta.get_field("path").max_length]
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                partner=partner, key=key, method=method, path=shown_path, request_digest=digest
            )
    except IntegrityError:
        existing = IdempotencyKey.objects.filter(partner=partner, key=key).first()
        if existing is None:
            # The first request failed and released the key in between: tell the client to
            # retry rather than guess at the outcome.
            raise ApplicationError(ErrorCode.IDEMPOTENCY_REQUEST_IN_PROGRESS) from None
        if existing.request_digest != digest:
            raise ApplicationError(ErrorCode.IDEMPOTENCY_KEY_REUSED) from None
        return existing


def idempotency_complete(*, record: IdempotencyKey, status: int, body: Any) -> None:
    """Store the response to replay; call it in the transaction of the request's writes."""
    record.state = IdempotencyKey.State.COMPLETED
    record.response_status = status
    record.response_body = body
    record.completed_at = timezone.now()
    record.save(update_fields=["state", "response_status", "response_body", "completed_at"])


def idempotency_release(*, record: IdempotencyKey) -> None:
    """Forget a key whose request failed, so the client can retry with a corrected body."""
    IdempotencyKey.objects.filter(pk=record.pk).delete()


def idempotency_purge_expired() -> int:
    """Delete keys older than SANPO_IDEMPOTENCY_KEY_TTL_HOURS; return how many."""
    cutoff = timezone.now() - timedelta(hours=settings.SANPO_IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
