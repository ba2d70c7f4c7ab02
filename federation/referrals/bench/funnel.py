"""The funnel benchmark's timed runs: ``funnel_of`` (the selector the API answers with) for the
destination, party to every loaded offer, against the plain SQL GROUP BYs of the same tables
over the same days (``baseline.sql``), alternated so that each finds the cache as the other
left it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.db import connection

from federation.referrals.selectors import FunnelRow, day_bounds, funnel_of
from partners.models import Partner

BASELINE = Path(__file__).with_name("baseline.sql")


def _statements() -> list[str]:
    text = re.sub(r"--[^\n]*", "", BASELINE.read_text())
    return [statement.strip() for statement in text.split(";") if statement.strip()]


def baseline(first: date, last: date) -> list[list[tuple[Any, ...]]]:
    """Clicks per offer and day, conversions per offer, day and state, fees per offer and
    day: three plain GROUP BYs, fetched."""
    start, end = day_bounds(first, last)
    with connection.cursor() as cursor:
        results = []
        for statement in _statements():
            cursor.execute(statement, {"start": start, "end": end})
            results.append(list(cursor.fetchall()))
        return results


@dataclass(frozen=True)
class Timing:
    baseline: float
    funnel: float
    rows: list[FunnelRow]
    grouped: list[list[tuple[Any, ...]]]

    @property
    def ratio(self) -> float:
        return self.funnel / self.baseline

    def same_totals(self) -> bool:
        """The funnel's clicks and fees add up to the baseline's."""
        clicks, _conversions, fees = self.grouped
        return sum(r.clicks for r in self.rows) == sum(row[2] for row in clicks) and sum(
            r.fees_yen for r in self.rows
        ) == sum(row[2] for row in fees)


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = work()
    return time.perf_counter() - began, result


def alternate(partner: Partner, first: date, last: date, rounds: int) -> Timing:
    """Baseline, funnel, baseline, funnel...: the last round's seconds of each."""
    timing = None
    for _ in range(rounds):
        base, grouped = _timed(lambda: baseline(first, last))
        funnel, rows = _timed(lambda: funnel_of(partner, first=first, last=last))
        timing = Timing(base, funnel, rows, grouped)
    assert timing is not None
    return timing
