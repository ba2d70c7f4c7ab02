"""Members active and dormant per day: the one-pass statement PostgreSQL runs gives, day by
day, what the per-day grouped query gives (the way every other database computes them)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.db import connection

from federation.metrics.models import ActivityDay, DailyFigure, Metric
from federation.metrics.services import figures
from partners.models import Partner, Person

pytestmark = pytest.mark.django_db
MEMBERS = {Metric.MEMBERS_ACTIVE, Metric.MEMBERS_DORMANT}


def _rows() -> set[tuple[date, str, object, int]]:
    found = DailyFigure.objects.filter(metric__in=MEMBERS)
    return set(found.values_list("day", "metric", "company_id", "value"))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_one_pass_members_match_the_per_day_query(
    seed: int, host: Partner, partner: Partner, settings: object
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the one-pass statement is PostgreSQL's")
    settings.SANPO_METRICS_DORMANT_DAYS = 7  # type: ignore[attr-defined]
    rng = random.Random(seed)
    people = [Person.objects.create() for _ in range(12)]
    start = date(2026, 3, 1)
    days = {
        (company, person, start + timedelta(days=rng.randrange(40)))
        for company in (host, partner)
        for person in people
        for _ in range(rng.randrange(5))
    }
    ActivityDay.objects.bulk_create(ActivityDay(company=c, person=p, day=d) for c, p, d in days)
    first, last = start + timedelta(days=5), start + timedelta(days=45)
    figures._members_range(first, last)
    one_pass = _rows()
    DailyFigure.objects.all().delete()
    day = first
    while day <= last:
        figures._members(day)
        day += timedelta(days=1)
    assert one_pass == _rows()
    assert len(one_pass) > 40
