"""The metrics benchmark's timed runs: the rollup refreshes, the API's answers (Django's test
client, in this process: the view, serializer, authentication and throttle, without an HTTP
server's noise) and the baseline's plain SQL aggregates, on the same data."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.test import Client, override_settings

from federation.coins.bench.http import percentile
from federation.metrics.bench import baseline
from federation.metrics.bench.load import World
from federation.metrics.services import metrics_refresh_days
from federation.metrics.services.figures import dormant_days


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = work()
    return time.perf_counter() - began, result


@dataclass(frozen=True)
class Refresh:
    full: float  # every day of the ledger
    full_rows: int
    daily: float  # yesterday and the day before, as the beat task does after a day
    daily_rows: int


def refresh(world: World) -> Refresh:
    full, rows = timed(lambda: metrics_refresh_days(world.first, world.last))
    daily, daily_rows = timed(
        lambda: metrics_refresh_days(world.last - timedelta(days=1), world.last)
    )
    return Refresh(full, rows, daily, daily_rows)


@dataclass(frozen=True)
class Latency:
    samples: list[float]

    def p(self, q: float) -> float:
        return percentile(self.samples, q)

    def line(self) -> str:
        return "  ".join(f"p{q} {self.p(q) * 1000:>8.1f}" for q in (50, 95, 99)) + " ms"


def repeat(calls: int, work: Callable[[], Any]) -> Latency:
    """``work`` once to warm up, then ``calls`` times, each timed."""
    work()
    return Latency([timed(work)[0] for _ in range(calls)])


@contextmanager
def api(world: World) -> Iterator[Callable[[str], dict[str, Any]]]:
    """A GET of the API as the world's company, answering its JSON (any other status stops
    the run); the rate limit out of reach, as in the coin benchmark's server."""
    client = Client(HTTP_AUTHORIZATION=f"Bearer {world.key}")

    def get(path: str) -> dict[str, Any]:
        response = client.get(path, secure=True)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.content[:300]!r}")
        body: dict[str, Any] = response.json()
        return body

    with override_settings(
        ALLOWED_HOSTS=["testserver"], SANPO_API_RATE_LIMIT_PER_MINUTE=100_000_000
    ):
        yield get


def figures_path(world: World, days: int, grain: str) -> str:
    first = world.last - timedelta(days=days - 1)
    return f"/api/v1/metrics/figures?from={first}&to={world.last}&grain={grain}"


def lift_path(world: World, days: int, *, running: bool) -> str:
    """A period of ``days`` ending yesterday (final: computed once, then kept) or today
    (running: computed afresh on every call)."""
    end = world.last + timedelta(days=1 if running else 0)
    first = end - timedelta(days=days - 1)
    return f"/api/v1/metrics/lift/reactivation?from={first}&to={end}&dormant_days={dormant_days()}"


def baseline_figures(world: World, days: int) -> Callable[[], Any]:
    first = world.last - timedelta(days=days - 1)
    return lambda: baseline.figures(world.company, first, world.last, dormant_days())


def baseline_lift(world: World, days: int) -> Callable[[], Any]:
    end = world.last + timedelta(days=1)
    start = end - timedelta(days=days - 1)
    return lambda: baseline.lift_groups(world.company, world.holdout, start, end, dormant_days())


def _series_sum(body: dict[str, Any], metric: str) -> int:
    return sum(
        point["value"] or 0
        for series in body["series"]
        if series["metric"] == metric
        for point in series["points"]
    )


def _last(body: dict[str, Any], metric: str) -> int:
    points = [s["points"] for s in body["series"] if s["metric"] == metric]
    return points[0][-1]["value"] if points and points[0][-1]["period"] == body["end"] else 0


def same_figures(
    api_figures: dict[str, Any],
    raw_figures: dict[str, Any],
    api_lift: dict[str, Any],
    raw_lift: dict[bool, tuple[int, int, int]],
) -> str:
    """``yes``, or which of the API's figures differ from the baseline's: the members active
    and dormant on the last day, the coins issued and spent in all, the lift's groups."""
    _, active, known = raw_figures["members"][-1]
    checks: dict[str, tuple[Any, Any]] = {
        "members active": (_last(api_figures, "members_active"), active),
        "members dormant": (_last(api_figures, "members_dormant"), known - active),
        "coins issued": (
            _series_sum(api_figures, "coins_issued"),
            sum(r[1] for r in raw_figures["issued"]),
        ),
        "coins spent": (
            _series_sum(api_figures, "coins_spent"),
            sum(r[2] for r in raw_figures["spent"]),
        ),
    }
    for held, name in ((False, "treated"), (True, "holdout")):
        group = api_lift["groups"][name]
        checks[f"lift {name}"] = (
            (group["members"], group["reactivated"], group["purchased"]),
            raw_lift.get(held, (0, 0, 0)),
        )
    wrong = [f"{name} {api} != {raw}" for name, (api, raw) in checks.items() if api != raw]
    return "yes" if not wrong else "; ".join(wrong)
