"""The notice in force at a moment, and the hash of its conditions that a consent must match."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from consent.models import (
    PrivacyNotice,
)


def notice_in_force(*, at: datetime | None = None) -> PrivacyNotice | None:
    """The newest notice version in effect at ``at`` (now), in any language: every language
    of a version carries the same conditions."""
    return (
        PrivacyNotice.objects.filter(effective_at__lte=at or timezone.now())
        .order_by("-version")
        .first()
    )


def current_conditions(*, at: datetime | None = None) -> str | None:
    """The conditions hash of the newest notice version in effect at ``at`` (now)."""
    notice = (
        PrivacyNotice.objects.filter(effective_at__lte=at or timezone.now())
        .order_by("-version")
        .values_list("conditions_sha256", flat=True)
        .first()
    )
    return notice
