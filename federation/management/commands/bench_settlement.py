"""Benchmark: settling a period against a plain SQL GROUP BY of its redemptions, on PostgreSQL.

Runs in a database of its own (``<database>_bench_settlement``, recreated each run). It loads
a month of ``--entries`` coin ledger entries in SQL (``federation/settlement/bench/ledger.py``:
purchases at one of 20 companies of an alliance, redeemed at another; transactions, entries,
lots and their lineage), then, in one process and on the same data, alternately:

- the baseline: the period's redemptions summed by issuer and company spent at, in one plain
  GROUP BY (``federation/settlement/bench/baseline.sql``), fetched;
- the settlement: ``period_compute`` as the task runs it (the lineage read by the set-based
  queries, reversals and expiry included, the largest-remainder rounding, the lines and one
  statement per company rendered, hashed and saved, the audit row), committed.

Each runs ``--rounds`` times in turn; the last round of each is reported (the earlier ones warm
the cache for both), with their ratio. Memory: the peak of Python's allocations during one
more computation (tracemalloc), and the process's peak resident set (getrusage ru_maxrss).
"""

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from config.bench import BenchDatabase
from federation.coins.selectors import ledger_verify
from federation.settlement.bench import ledger, runs

MIB = 1024 * 1024


class Command(BaseCommand):
    help = "Time a period's settlement against a plain SQL GROUP BY (see the module's doc)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--entries", type=int, default=1_000_000)
        parser.add_argument("--rounds", type=int, default=2)
        parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["child"]:
            self._measure(options["entries"], options["rounds"])
            return
        bench = BenchDatabase("bench_settlement")
        bench.recreate()
        bench.manage("migrate", "-v0")
        flags = [f"--entries={options['entries']}", f"--rounds={options['rounds']}"]
        bench.manage("bench_settlement", "--child", *flags, quiet=False)

    def _measure(self, entries: int, rounds: int) -> None:
        alliance = ledger.alliance()
        period = ledger.period_of(alliance.host)
        loaded = ledger.load(alliance, period, entries)
        self.stdout.write(
            f"Settlement benchmark: {entries:,} ledger entries in one month, "
            f"{ledger.COMPANIES} companies (PostgreSQL "
            f"{getattr(connection, 'pg_version', 0) // 10000})"
        )
        self.stdout.write(f"   loaded in SQL in {loaded:.0f} s")
        timing = runs.alternate(period, rounds)
        lines = period.lines.count()
        statements = period.statements.count()
        self.stdout.write(f"1. Seconds (round {rounds} of {rounds} of each, alternated)")
        self.stdout.write(f"   {'plain SQL GROUP BY (baseline)':<40} {timing.baseline:>8.2f} s")
        self.stdout.write(
            f"   {'settlement: lines and statements':<40} {timing.settlement:>8.2f} s"
            f"  ({lines} lines, {statements} statements)"
        )
        self.stdout.write(f"   {'settlement / baseline':<40} {timing.ratio:>8.2f}x  (aim ≤ 1.5x)")
        same = runs.same_figures(period)
        self.stdout.write(f"   same coins and yen as the baseline, pair by pair: {_yes(same)}")
        memory = runs.memory(period)
        self.stdout.write("2. Memory")
        self.stdout.write(
            f"   {'Python peak in one computation':<40} {memory.python_peak / MIB:>8.1f} MiB"
            "  (tracemalloc)"
        )
        self.stdout.write(
            f"   {'process peak resident set':<40} {memory.process_peak / MIB:>8.1f} MiB"
            "  (getrusage ru_maxrss)"
        )
        mismatch = ledger_verify()
        self.stdout.write(f"\nLedger verified after the runs: {_yes(mismatch is None, mismatch)}")


def _yes(ok: bool, otherwise: object = "no") -> str:
    return "yes" if ok else str(otherwise)
