"""Benchmark: the metrics API answering from its rollups, against plain SQL aggregates of the
raw ledger, on PostgreSQL.

Runs in a database of its own (``<database>_bench_metrics``, recreated each run). It loads an
alliance of ``--members`` persons and ``--entries`` coin ledger entries over ``--days`` days
ending yesterday, 20 companies (``federation/metrics/bench/load.py``, the settlement
benchmark's ledger), then in one process and on the same data:

1. the rollups' refresh: ``metrics_refresh_days`` over every day (activity rollup and daily
   figures), then over the last two days (the beat task's daily work);
2. the API, through Django's test client as one company, ``--calls`` times each:
   ``GET /api/v1/metrics/figures`` (90 days by day, a year by month) and
   ``GET /api/v1/metrics/lift/reactivation`` (30 days, running and final);
3. the baseline, ``--baseline-calls`` times each: the same figures by plain SQL aggregates
   over the raw tables (``federation/metrics/bench/baseline.py``), with the ratios, and a
   check that both give the same numbers.
"""

import argparse
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from config.bench import BenchDatabase
from federation.metrics.bench import load, runs
from federation.metrics.bench.runs import Latency

FIGURE_DAYS = 90
LIFT_DAYS = 30


class Command(BaseCommand):
    help = "Time the metrics API and rollups against plain SQL aggregates (see the module's doc)."

    def add_arguments(self, parser: CommandParser) -> None:
        entries = int(os.environ.get("BENCH_METRICS_ENTRIES", 10_000_000))
        parser.add_argument("--entries", type=int, default=entries)
        parser.add_argument("--members", type=int, default=max(entries // 10, 1000))
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--calls", type=int, default=200)
        parser.add_argument("--baseline-calls", type=int, default=10)
        parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["child"]:
            self._measure(options)
            return
        bench = BenchDatabase("bench_metrics")
        bench.recreate()
        bench.manage("migrate", "-v0")
        flags = [
            f"--{name.replace('_', '-')}={options[name]}"
            for name in ("entries", "members", "days", "calls", "baseline_calls")
        ]
        bench.manage("bench_metrics", "--child", *flags, quiet=False)

    def _measure(self, options: dict[str, Any]) -> None:
        world = load.world(options["members"], options["entries"], options["days"])
        self.stdout.write(
            f"Metrics benchmark: {options['members']:,} members, {options['entries']:,} ledger "
            f"entries over {options['days']} days ({world.first} to {world.last}), "
            f"{len(world.alliance.companies)} companies (PostgreSQL "
            f"{getattr(connection, 'pg_version', 0) // 10000})"
        )
        self.stdout.write(f"   loaded in SQL in {world.loaded:.0f} s")
        refresh = runs.refresh(world)
        self.stdout.write("1. Rollup refresh (activity rollup and daily figures)")
        self._line(f"every day ({options['days']})", f"{refresh.full:.2f} s", refresh.full_rows)
        self._line("the last two days", f"{refresh.daily:.2f} s", refresh.daily_rows)
        self._api_and_baseline(world, options["calls"], options["baseline_calls"])

    def _api_and_baseline(self, world: load.World, calls: int, baseline_calls: int) -> None:
        self.stdout.write(f"2. API from the rollups, {calls} calls each (test client)")
        with runs.api(world) as get:
            figures = runs.figures_path(world, FIGURE_DAYS, "day")
            answers = {
                f"figures, {FIGURE_DAYS} days by day": runs.repeat(calls, lambda: get(figures)),
                "figures, a year by month": runs.repeat(
                    calls, lambda: get(runs.figures_path(world, 365, "month"))
                ),
                f"lift, {LIFT_DAYS} days, running": runs.repeat(
                    calls, lambda: get(runs.lift_path(world, LIFT_DAYS, running=True))
                ),
                f"lift, {LIFT_DAYS} days, final (kept)": runs.repeat(
                    calls, lambda: get(runs.lift_path(world, LIFT_DAYS, running=False))
                ),
            }
            for name, latency in answers.items():
                self.stdout.write(f"   {name:<36} {latency.line()}")
            api_figures = get(figures)
            api_lift = get(runs.lift_path(world, LIFT_DAYS, running=True))
        self.stdout.write(
            f"3. Baseline: plain SQL over the raw tables, {baseline_calls} calls each"
        )
        raw_figures = runs.baseline_figures(world, FIGURE_DAYS)
        raw_lift = runs.baseline_lift(world, LIFT_DAYS)
        baselines = {
            f"figures, {FIGURE_DAYS} days by day": runs.repeat(baseline_calls, raw_figures),
            f"lift, {LIFT_DAYS} days": runs.repeat(baseline_calls, raw_lift),
        }
        for name, latency in baselines.items():
            self.stdout.write(f"   {name:<36} {latency.line()}")
        self.stdout.write("4. API / baseline")
        for name, api, raw in (
            (
                f"figures, {FIGURE_DAYS} days by day",
                answers[f"figures, {FIGURE_DAYS} days by day"],
                baselines[f"figures, {FIGURE_DAYS} days by day"],
            ),
            (
                f"lift, {LIFT_DAYS} days, running",
                answers[f"lift, {LIFT_DAYS} days, running"],
                baselines[f"lift, {LIFT_DAYS} days"],
            ),
        ):
            self.stdout.write(f"   {name:<36} {_ratio(api, raw, 50)}  {_ratio(api, raw, 95)}")
        same = runs.same_figures(api_figures, raw_figures(), api_lift, raw_lift())
        self.stdout.write(f"   same members, coins and lift groups as the baseline: {same}")

    def _line(self, name: str, figure: str, rows: int) -> None:
        self.stdout.write(f"   {name:<36} {figure:>10}  ({rows:,} rows written)")


def _ratio(api: Latency, raw: Latency, q: float) -> str:
    return f"p{q:g} {api.p(q) / raw.p(q):.4f}x"
