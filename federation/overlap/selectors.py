"""Reads of overlap: what each company may see of a company's base."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from federation.agreements.access import counterparties_of
from federation.overlap.models import OverlapVisibility
from partners.models import Partner


@dataclass(frozen=True)
class VisibilitySetting:
    """What ``viewer`` may see of a base: ``updated_at`` None when it was never set (and the
    level is then ``nothing``, the default)."""

    viewer: Partner
    level: str
    updated_at: datetime | None


def visibility_settings_of(owner: Partner) -> list[VisibilitySetting]:
    """What each company may see of ``owner``'s base, by slug: every company it shares an
    agreement with, and any it set before."""
    settings: dict[Any, VisibilitySetting] = {
        visibility.viewer_id: VisibilitySetting(
            visibility.viewer, visibility.level, visibility.updated_at
        )
        for visibility in OverlapVisibility.objects.filter(owner=owner).select_related("viewer")
    }
    for company in counterparties_of(owner).exclude(pk__in=list(settings)):
        settings[company.pk] = VisibilitySetting(company, OverlapVisibility.Level.NOTHING, None)
    return sorted(settings.values(), key=lambda setting: setting.viewer.slug)
