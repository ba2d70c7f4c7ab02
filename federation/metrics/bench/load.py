"""The metrics benchmark's alliance: the settlement benchmark's twenty companies and ledger
(``federation/settlement/bench/ledger.py``: purchases at one company redeemed at another, with
their transactions, entries, lots and lots' uses), over ``people`` members and ``days`` days
ending yesterday (Japan's), a reactivation holdout for every company, and a read key for the
company the API is asked as."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from federation.coins.services.actions import reactivation_key
from federation.holdouts.models import Holdout
from federation.holdouts.services import holdout_for
from federation.metrics.days import day_bounds
from federation.settlement.bench import ledger
from partners import services as partner_services
from partners.actors import Actor
from partners.models import ApiScope, Partner, StaffRole

SYSTEM = Actor.system()


@dataclass(frozen=True)
class World:
    alliance: ledger.Alliance
    company: Partner  # the company the API is asked as
    holdout: Holdout  # its reactivation bonus's holdout
    key: str  # its read key
    first: date  # the first and last days of the ledger
    last: date
    loaded: float  # seconds the ledger's load took


def world(people: int, entries: int, days: int) -> World:
    alliance = ledger.alliance(people)
    last = timezone.localdate() - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    loaded = ledger.load_spread(
        alliance, day_bounds(first, first)[0], entries, seconds=days * 24 * 3600
    )
    holdouts = [
        holdout_for(kind=Holdout.Kind.REACTIVATION, key=reactivation_key(c), company=c)
        for c in alliance.companies
    ]
    company = alliance.companies[1]
    return World(alliance, company, holdouts[1], _key(company), first, last, loaded)


def _key(company: Partner) -> str:
    """A read key for ``company``, issued by an alliance manager made for the benchmark."""
    manager = get_user_model().objects.create_user(username="bench-manager")
    partner_services.staff_role_set(
        user=manager, role=StaffRole.Role.ALLIANCE_MANAGER, partner=None, actor=SYSTEM
    )
    issued = partner_services.api_key_issue(
        partner=company, name="Metrics benchmark", scopes=[ApiScope.READ], actor=Actor(user=manager)
    )
    return issued.plaintext
