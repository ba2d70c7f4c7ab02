"""The settlement benchmark's timed runs: the baseline GROUP BY (``baseline.sql``) and the
period's computation through the services, on the same data, alternated so that each finds
the database's cache as the other left it; and the memory the computation takes."""

from __future__ import annotations

import resource
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection

from federation.settlement.models import SettlementLine, SettlementPeriod
from federation.settlement.services import period_compute
from partners.actors import Actor

BASELINE_SQL = Path(__file__).with_name("baseline.sql").read_text()
SYSTEM = Actor.system()


def baseline(period: SettlementPeriod) -> list[tuple[Any, ...]]:
    """The period's redemptions summed by issuer and company spent at, in plain SQL."""
    with connection.cursor() as cursor:
        cursor.execute(BASELINE_SQL, {"starts_at": period.starts_at, "ends_at": period.ends_at})
        return list(cursor.fetchall())


def settle(period: SettlementPeriod) -> int:
    """The period's lines and statements computed and saved, as the task does; the lines."""
    return period_compute(period, actor=SYSTEM).lines.count()


@dataclass(frozen=True)
class Timing:
    baseline: float
    settlement: float

    @property
    def ratio(self) -> float:
        return self.settlement / self.baseline


def timed(work: Callable[[], Any]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def alternate(period: SettlementPeriod, rounds: int = 2) -> Timing:
    """Baseline, settlement, baseline, settlement...: the last round's seconds of each (the
    first rounds warm the cache for both)."""
    timing = Timing(0.0, 0.0)
    for _ in range(rounds):
        timing = Timing(timed(lambda: baseline(period)), timed(lambda: settle(period)))
    return timing


@dataclass(frozen=True)
class Memory:
    python_peak: int  # bytes Python allocated at most during one computation (tracemalloc)
    process_peak: int  # the process's peak resident set, bytes (getrusage ru_maxrss)


def memory(period: SettlementPeriod) -> Memory:
    """One more computation under tracemalloc (slower, so not timed), then the process's
    peak resident set so far (Linux reports ru_maxrss in KiB)."""
    tracemalloc.start()
    try:
        settle(period)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Memory(peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


def same_figures(period: SettlementPeriod) -> bool:
    """Whether the computed redemption lines hold exactly the baseline's coins and exact yen,
    pair by pair."""
    expected = {
        (issuer, company): (int(coins), Decimal(yen))
        for issuer, company, coins, yen in baseline(period)
    }
    lines = period.lines.filter(kind=SettlementLine.Kind.REDEMPTION)
    found = {(line.debtor_id, line.creditor_id): (line.coins, line.exact_yen) for line in lines}
    return found == expected
