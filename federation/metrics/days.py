"""Japan's days as the metrics count them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(first, time.min), zone),
        timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), zone),
    )
