"""Benchmark: member base import against raw COPY, on this machine, in one run.

Runs in a database of its own (``<database>_bench`` on the DATABASE_URL server, recreated each
run), so it neither needs nor touches real data. For each size it:

1. writes a synthetic member base (Japanese names, addresses, phones) as CSV (not timed);
2. loads that file with raw ``COPY ... FROM STDIN (FORMAT csv)`` into an unindexed table with the
   same columns: the baseline;
3. imports it with ``import_members`` in a child process (validation, normalisation,
   per-member data keys, AES-GCM of every personal field, blind indexes, staging, upsert and
   person matching), measuring wall time and the child's peak resident memory.

A partner base of ``--partner-rows`` accounts sharing ~30% of people with the host base is
imported first (not timed), so matching has existing persons to find.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.bench import BenchDatabase
from partners.synthetic import COLUMNS, write_csv

_BASELINE_COLUMNS = ", ".join(
    f"{name} {'date' if name in ('birth_date', 'joined_on', 'last_active_on') else 'text'}"
    for name in COLUMNS
)


class Command(BaseCommand):
    help = "Measure member import speed and memory against raw PostgreSQL COPY (see module doc)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rows",
            type=int,
            nargs="+",
            default=[100_000, 1_000_000],
            help="Sizes to import, each into a fresh host base (default: 100000 1000000).",
        )
        parser.add_argument("--partner-rows", type=int, default=100_000)
        parser.add_argument("--workdir", default=None, help="Where to write the CSV files.")

    def handle(self, *args: Any, **options: Any) -> None:
        bench = BenchDatabase("bench")
        bench_dsn, env = bench.dsn, bench.env
        workdir = Path(options["workdir"] or tempfile.mkdtemp(prefix="sanpo-bench-"))
        workdir.mkdir(parents=True, exist_ok=True)

        bench.recreate()
        bench.manage("migrate", "-v0")
        bench.manage("seed_demo", "--members", "0")
        with psycopg.connect(bench_dsn) as conn:
            server = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        self.stdout.write(
            f"PostgreSQL {server}, {os.cpu_count()} CPU(s), Python {sys.version.split()[0]}, "
            f"chunk {settings.SANPO_IMPORT_CHUNK_ROWS:,} rows"
        )

        partner_file = workdir / "partner.csv"
        write_csv(partner_file, count=options["partner_rows"], seed=2, prefix="P")
        self._import(env, "midori-fitness", partner_file)
        self.stdout.write(f"Partner base loaded first: {options['partner_rows']:,} accounts")

        results = []
        for number, rows in enumerate(options["rows"]):
            path = workdir / f"host-{rows}.csv"
            started = time.perf_counter()
            size = write_csv(path, count=rows, seed=1, prefix=f"H{number}-", overlap_with=2)
            generated = time.perf_counter() - started
            copy_seconds = _raw_copy(bench_dsn, path)
            report = self._import(env, "kirari", path)
            results.append((rows, size, generated, copy_seconds, report))
            path.unlink()
        partner_file.unlink()

        self._report(results)

    def _report(self, results: list[tuple[int, int, float, float, dict[str, Any]]]) -> None:
        self.stdout.write("")
        self.stdout.write(
            f"{'rows':>10} {'MB':>7} {'COPY s':>8} {'COPY rows/s':>12} {'import s':>9} "
            f"{'import rows/s':>14} {'ratio':>7} {'peak RSS MB':>12}"
        )
        for rows, size, _generated, copy_seconds, report in results:
            import_rate = rows / report["seconds"]
            copy_rate = rows / copy_seconds
            self.stdout.write(
                f"{rows:>10,} {size / 1e6:>7.1f} {copy_seconds:>8.2f} {copy_rate:>12,.0f} "
                f"{report['seconds']:>9.2f} {import_rate:>14,.0f} {import_rate / copy_rate:>7.3f} "
                f"{report['peak_rss_mb']:>12.1f}"
            )
        self.stdout.write(
            "ratio = import rows/s ÷ raw COPY rows/s (1.0 would be COPY speed). Import time "
            "includes the child's start-up and every phase; the baseline does no validation, "
            "encryption, indexing or matching."
        )

    def _import(self, env: dict[str, str], slug: str, path: Path) -> dict[str, Any]:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "manage.py", "import_members", slug, str(path), "--mode", "create"],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert child.stdout is not None
        output = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise CommandError(f"import_members failed:\n{output}")
        summary = " ".join(line.strip() for line in output.splitlines()[1:])
        self.stdout.write(f"  {path.name} ({seconds:.1f} s): {summary}")
        # ru_maxrss is in KiB on Linux.
        return {"seconds": seconds, "peak_rss_mb": usage.ru_maxrss / 1024, "output": output}


def _raw_copy(dsn: str, path: Path) -> float:
    with psycopg.connect(dsn) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_copy")
        conn.execute(f"CREATE TABLE bench_raw_copy ({_BASELINE_COLUMNS})")
        conn.commit()
        started = time.perf_counter()
        sql = "COPY bench_raw_copy FROM STDIN (FORMAT csv, HEADER true)"
        with conn.cursor() as cursor, path.open("rb") as source, cursor.copy(sql) as copy:
            while block := source.read(1024 * 1024):
                copy.write(block)
        conn.commit()
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bench_raw_copy")
        conn.commit()
    return seconds
