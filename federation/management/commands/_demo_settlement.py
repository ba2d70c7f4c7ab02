"""The demo's settlement: last month settled and issued, this month computed as a draft.

The demo's ledger is otherwise only "now", so a finished month would appear only after a
month of use. Last month (Asia/Tokyo) is therefore given a small ledger of its own, posted
through the coin services with their clock set inside that month: four members, each earning
one company's coins and spending them at another. The ledger stamps ``posted_at`` itself (its
field's default), so it is that default that is moved, for these postings only. The members
are new people with no other postings, so no wallet's history goes back and forth in time.
Then the period is computed, opened for review, locked and issued (each statement signed), as
the alliance manager would in the console.

Safe to run again: the postings and the period are made in one transaction, so the period's
existence says the month is seeded; a period left half-way (a review not locked) is moved on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from federation.coins.models import CoinTransaction
from federation.coins.services import Grant, coins_earn, coins_redeem
from federation.settlement.models import SettlementPeriod
from federation.settlement.services import (
    period_create,
    period_issue,
    period_lock,
    period_review_open,
)
from federation.settlement.services.periods import tokyo_midnight
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import Partner, Person

SYSTEM = Actor.system()
State = SettlementPeriod.State
# issuer, coins earned, its yen per coin, where they are spent, coins spent
LAST_MONTH = [
    ("midori-fitness", 600, "0.5", "kirari", 450),
    ("kirari", 800, "1", "midori-fitness", 500),
    ("tsubame-travel", 300, "2", "kirari", 120),
    ("kirari", 400, "1", "tsubame-travel", 250),
]


def last_month() -> tuple[date, date]:
    """The previous calendar month in Japan, first and last day."""
    first_of_this = timezone.localdate().replace(day=1)
    last = first_of_this - timedelta(days=1)
    return last.replace(day=1), last


def seed_issued_settlement(partners: dict[str, Partner]) -> SettlementPeriod | None:
    """Last month's period, issued (None if another period of the alliance covers it)."""
    kirari = partners["kirari"]
    first, last = last_month()
    period = SettlementPeriod.objects.filter(host=kirari, starts_on=first).first()
    if period is None:
        with suppress(ApplicationError), transaction.atomic():
            _ledger(partners, first)
            period = period_create(host=kirari, starts_on=first, ends_on=last, actor=SYSTEM)
    if period is None:
        return None
    if period.state == State.DRAFT:
        period = period_review_open(period, actor=SYSTEM)
    if period.state == State.REVIEW:
        period = period_lock(period, actor=SYSTEM)
    if period.state == State.LOCKED:
        period = period_issue(period, actor=SYSTEM)
    return period


def _ledger(partners: dict[str, Partner], first: date) -> None:
    for day, (issuer, coins, rate, merchant, spent) in enumerate(LAST_MONTH, start=3):
        person = Person.objects.create()
        earned_at = tokyo_midnight(first + timedelta(days=day)) + timedelta(hours=11)
        with _ledger_clock(earned_at):
            grant = Grant(person, partners[issuer], coins, Decimal(rate))
            coins_earn(grant, actor=SYSTEM, now=earned_at, reference=f"DEMO-LAST-{day}")
        spent_at = earned_at + timedelta(days=5, hours=4)
        with _ledger_clock(spent_at):
            coins_redeem(person, partners[merchant], spent, actor=SYSTEM, now=spent_at)


@contextmanager
def _ledger_clock(moment: datetime) -> Iterator[None]:
    """Postings made inside are stamped ``moment`` (the ledger's ``posted_at`` default)."""
    posted_at = CoinTransaction._meta.get_field("posted_at")
    saved = posted_at.default
    posted_at.default = lambda: moment
    posted_at.__dict__.pop("_get_default", None)  # Django caches the default's callable
    try:
        yield
    finally:
        posted_at.default = saved
        posted_at.__dict__.pop("_get_default", None)
