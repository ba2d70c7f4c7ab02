"""The settlement tests' world: an alliance of the host and two brands, a clock the ledger's
postings read, and a ledger of May 2026 whose settlement is computed by hand in
``test_settlement.py``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from federation.coins.models import CoinClawback, CoinTransaction
from federation.coins.services import (
    Grant,
    coins_earn,
    coins_expire_due,
    coins_redeem,
    coins_refund,
)
from federation.settlement.models import SettlementPeriod
from federation.settlement.services import period_create
from partners.actors import Actor
from partners.models import Partner, Person
from tests.factories import flow, make_agreement, make_partner

SYSTEM = Actor.system()
TOKYO = ZoneInfo("Asia/Tokyo")


def tokyo(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TOKYO)


@contextmanager
def ledger_clock(moment: datetime) -> Iterator[None]:
    """Postings made inside are stamped ``moment``: the ledger stamps them itself (its
    ``posted_at`` and ``recorded_at`` defaults), and settlement reads them by those stamps."""
    fields = [
        CoinTransaction._meta.get_field("posted_at"),
        CoinClawback._meta.get_field("recorded_at"),
    ]
    saved = [field.default for field in fields]
    for field in fields:
        field.default = lambda: moment
        field.__dict__.pop("_get_default", None)  # Django caches the default's callable
    try:
        yield
    finally:
        for field, default in zip(fields, saved, strict=True):
            field.default = default
            field.__dict__.pop("_get_default", None)


@dataclass
class Alliance:
    host: Partner
    a: Partner
    b: Partner

    def period(self, first: date, last: date) -> SettlementPeriod:
        return period_create(host=self.host, starts_on=first, ends_on=last, actor=SYSTEM)


def make_alliance(prefix: str = "st") -> Alliance:
    host = make_partner(f"{prefix}-host", kind=Partner.Kind.HOST)
    a, b = make_partner(f"{prefix}-a"), make_partner(f"{prefix}-b")
    flows = [flow(host, brand, "coin_exchange", "name") for brand in (a, b)]
    make_agreement(host, a, b, terms={"data_flows": flows}, title="Settlement alliance")
    return Alliance(host, a, b)


def earn(person: Person, issuer: Partner, coins: int, yen: str, at: datetime, **kw: Any) -> Any:
    with ledger_clock(at):
        return coins_earn(Grant(person, issuer, coins, Decimal(yen), **kw), actor=SYSTEM, now=at)


def redeem(person: Person, merchant: Partner, coins: int, at: datetime) -> CoinTransaction:
    with ledger_clock(at):
        return coins_redeem(person, merchant, coins, actor=SYSTEM, now=at)


@dataclass
class MayLedger:
    p1: Person
    p2: Person
    p1_at_a: CoinTransaction  # p1's redemption at A: B's and the host's coins


def may_ledger(alliance: Alliance) -> MayLedger:
    """In May 2026 (see ``test_settlement.py`` for the figures):
    - p1 earns 1,000 A coins at 1 yen, 500 B coins at 0.5, 333 host coins at 1.2345;
    - p2 earns 300 A coins at 1.002 and 100 host coins at 1.2345 expiring on May 20;
    - p1 spends 1,200 at B (1,000 of A's, 200 of B's own), 400 at A (300 of B's, 100 of
      the host's); p2 spends 350 at the host (300 of A's, 50 of its own);
    - A's purchase that earned p1's 1,000 coins is refunded: all were spent (shortfall);
    - p2's 50 host coins left expire (breakage)."""
    host, a, b = alliance.host, alliance.a, alliance.b
    p1, p2 = Person.objects.create(), Person.objects.create()
    earned = earn(p1, a, 1000, "1", tokyo(date(2026, 5, 2)))
    earn(p1, b, 500, "0.5", tokyo(date(2026, 5, 3)))
    earn(p1, host, 333, "1.2345", tokyo(date(2026, 5, 4)))
    earn(p2, a, 300, "1.002", tokyo(date(2026, 5, 2)))
    earn(p2, host, 100, "1.2345", tokyo(date(2026, 5, 3)), expires_at=tokyo(date(2026, 5, 20)))
    redeem(p1, b, 1200, tokyo(date(2026, 5, 10)))
    p1_at_a = redeem(p1, a, 400, tokyo(date(2026, 5, 11)))
    redeem(p2, host, 350, tokyo(date(2026, 5, 12)))
    with ledger_clock(tokyo(date(2026, 5, 15))):
        coins_refund(earned, 1000, actor=SYSTEM)
    with ledger_clock(tokyo(date(2026, 5, 21))):
        coins_expire_due(now=tokyo(date(2026, 5, 21)))
    return MayLedger(p1, p2, p1_at_a)
