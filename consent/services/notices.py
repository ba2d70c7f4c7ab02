"""Publishing a privacy notice version: the text members read and the conditions (purposes,
recipients, data items) that a consent given under it covers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consent import check_cache
from consent.audit import ConsentAuditAction
from consent.models import (
    PrivacyNotice,
    Purpose,
)
from consent.services.common import invalid as _invalid
from consent.services.common import sha256_canonical as _sha256
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import Partner
from partners.services import audit_record


def notice_publish(
    *,
    version: int,
    language: str,
    text: str,
    purposes: Iterable[str],
    recipients: Iterable[Partner],
    data_items: Iterable[str],
    effective_at: datetime,
    actor: Actor,
) -> PrivacyNotice:
    """Publish one language of a notice version, in one transaction with its audit event.

    Raises ApplicationError (validation_failed) for unknown purposes, a naive time or a
    version and language already published."""
    conditions = {
        "purposes": sorted(set(purposes)),
        "recipients": sorted({partner.slug for partner in recipients}),
        "data_items": sorted(set(data_items)),
    }
    unknown = set(conditions["purposes"]) - set(Purpose.objects.values_list("code", flat=True))
    if unknown:
        raise _invalid(
            "purposes", _("Unknown purposes: %(codes)s.") % {"codes": ", ".join(sorted(unknown))}
        )
    if timezone.is_naive(effective_at):
        raise _invalid("effective_at", _("Give a timezone-aware time."))
    notice = PrivacyNotice(
        version=version,
        language=language,
        effective_at=effective_at,
        text=text,
        content_sha256=hashlib.sha256(text.encode()).hexdigest(),
        conditions=conditions,
        conditions_sha256=_sha256(conditions),
    )
    try:
        notice.full_clean()
    except ValidationError as exc:
        raise ApplicationError(ErrorCode.VALIDATION_FAILED, fields=exc.message_dict) from None
    with transaction.atomic():
        notice.save()
        audit_record(
            action=ConsentAuditAction.NOTICE_PUBLISHED,
            actor=actor,
            target=notice,
            detail={
                "version": version,
                "language": language,
                "effective_at": effective_at.isoformat(),
                "conditions_sha256": notice.conditions_sha256,
            },
        )
        transaction.on_commit(check_cache.cache.clear)
    return notice
