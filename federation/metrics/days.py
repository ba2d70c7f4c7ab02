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


# The days the metrics read: wide enough for any alliance, narrow enough that a period's
# arithmetic (a default start 29 days back, the day after the last) stays within Python's
# dates.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def parse_day(raw: str | None) -> date | None:
    """``raw`` as a day (YYYY-MM-DD) from 2000 to 2999, or None."""
    if raw is None or len(raw) != 10:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None
