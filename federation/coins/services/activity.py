"""A member's last activity with a company's program: each earning and spending records when
it happened; the reactivation bonus measures dormancy by it."""

from __future__ import annotations

from datetime import datetime

from federation.coins.models import CoinActivity
from partners.models import Partner, Person


def activity_touch(person: Person, company: Partner, at: datetime) -> None:
    """Record that ``person`` was active with ``company`` at ``at``; the record only moves
    forward (an activity reported late never makes the member look dormant). Safe when two
    postings of the member race: an insert that loses the race is ignored, and the update
    after it keeps the later time."""
    later = CoinActivity.objects.filter(person=person, company=company, last_active_at__lt=at)
    if later.update(last_active_at=at):
        return
    CoinActivity.objects.bulk_create(
        [CoinActivity(person=person, company=company, last_active_at=at)], ignore_conflicts=True
    )
    later.update(last_active_at=at)
