"""Benchmark: a campaign's draw and its results against plain SQL queries, on PostgreSQL.

Runs in a database of its own (``<database>_bench_campaigns``, recreated each run). The demo
gives the companies (``seed_demo --members 0``); ``federation/campaigns/bench/load.py`` loads
``--members`` host members in SQL (``generate_series``), 80% consenting to sampling with
Hoshizora Foods, and drafts its campaign of ``--sample`` members (ages 30 to 59, households)
through the service. Then, in one process and on the same data
(``federation/campaigns/bench/runs.py``):

1. the draw: ``campaign_select`` against one plain ``INSERT … SELECT`` (each rolled back);
2. the results: a draw committed, one answer per member drawn loaded in SQL, then
   ``campaign_results`` against a plain ``GROUP BY`` of the answers and the texts fetched.

Each runs ``--rounds`` times in turn; the last round of each is reported, with the ratio.
"""

import argparse
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from config.bench import BenchDatabase
from federation.campaigns.bench import load, runs


class Command(BaseCommand):
    help = "Time a campaign's draw and results against plain SQL (see the module's doc)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--members", type=int, default=1_000_000, help="Host members.")
        parser.add_argument("--sample", type=int, default=50_000, help="Members to draw.")
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        flags = [
            f"--members={options['members']}",
            f"--sample={options['sample']}",
            f"--rounds={options['rounds']}",
        ]
        if options["child"]:
            self._measure(options["members"], options["sample"], options["rounds"])
            return
        bench = BenchDatabase("bench_campaigns")
        bench.recreate()
        bench.manage("migrate", "-v0")
        bench.manage("seed_demo", "--members", "0")
        bench.manage("bench_campaigns", "--child", *flags, quiet=False)

    def _measure(self, members: int, sample: int, rounds: int) -> None:
        # The results are asked again and again: no question budget here, exact counts.
        settings.SANPO_OVERLAP_QUESTIONS_PER_MONTH = 1_000_000
        host, brand = load.parties()
        load.agree(host, brand)
        started = time.perf_counter()
        load.members(host, brand, members)
        loaded = time.perf_counter() - started
        campaign = load.campaign(host, brand, sample)
        version = getattr(connection, "pg_version", 0) // 10000
        self.stdout.write(
            f"Campaign benchmark: a {sample:,}-member sample of {members:,} host members, "
            f"80% consenting (PostgreSQL {version}); loaded in SQL in {loaded:.0f} s"
        )
        drawn = runs.selection(campaign, rounds)
        self._row("1. Draw", "plain INSERT … SELECT (baseline)", "campaign_select", drawn)
        self.stdout.write(f"   members drawn: {drawn.baseline_rows:,} and {drawn.real_rows:,}")
        answered = runs.draw(campaign)
        started = time.perf_counter()
        count = load.answers(campaign)
        self.stdout.write(
            f"   ({answered:,} drawn and committed; {count:,} answers loaded in SQL in "
            f"{time.perf_counter() - started:.1f} s)"
        )
        shown = runs.results(campaign, rounds)
        self._row("2. Results", "plain GROUP BY and texts (baseline)", "campaign_results", shown)

    def _row(self, title: str, baseline: str, real: str, timing: runs.Timing) -> None:
        self.stdout.write(f"{title} (round of the last of each, alternated)")
        self.stdout.write(f"   {baseline:<40} {timing.baseline:>8.3f} s")
        self.stdout.write(f"   {real:<40} {timing.real:>8.3f} s")
        self.stdout.write(f"   {'ratio':<40} {timing.ratio:>8.2f}x")
