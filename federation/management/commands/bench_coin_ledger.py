"""Benchmark: the coin ledger's postings against a raw-SQL baseline, on PostgreSQL.

Runs in a database of its own (``<database>_bench_coins``, recreated each run), with the demo
alliance's companies and members plus issuers enough to spread over. In one process and on the
same data, with the same triggers and constraints on both sides, it reports:

1. transfers per second at ``--clients`` concurrent clients through ``ledger.post`` against
   the raw-SQL baseline (``federation/coins/bench/baseline.sql``: lock two accounts in id
   order, move balance and version, insert the transaction and its two entries);
2. earnings per second (``coins_earn``: posting, lot, audit row) when every coin is funded by
   one issuer, against the same spread over many issuers: the liability is split in shards,
   so one popular issuer is no hot row;
3. earning and redeeming through the partner API: gunicorn (``--workers`` sync workers,
   production settings) started here on loopback, ``--clients`` clients posting purchases
   and redemptions for the host's members at random; requests per second against the
   baseline, and the p50, p95 and p99 latency of each;
4. a balance read on a wallet with ``--history`` entries against one with 10,000, through
   the selector (median) and through ``GET /api/v1/coins/balance`` (one client): it reads
   the account's row, whatever the history.

Each run lasts ``--seconds`` after a warm-up of the same length.
"""

import argparse
import dataclasses
import os
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

from config.bench import BenchDatabase
from federation.coins.bench import http, members, runs
from federation.coins.bench.history import history_load
from federation.coins.models import CoinAccount
from federation.coins.selectors import balance_of, ledger_verify
from federation.coins.services import Grant, coins_earn, member_account
from partners import services as partner_services
from partners.actors import Actor
from partners.models import MemberAccount, Partner, Person
from partners.services import member_person

SYSTEM = Actor.system()
FUNDING = 1_000_000_000
SHORT_HISTORY = 10_000
HTTP_MEMBERS = 200
BASELINE = "raw SQL baseline (transfer)"


class Command(BaseCommand):
    help = "Time ledger postings against a raw-SQL baseline (see the module's doc)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=8)
        parser.add_argument("--seconds", type=float, default=5.0)
        parser.add_argument("--wallets", type=int, default=2000)
        parser.add_argument("--issuers", type=int, default=16)
        parser.add_argument("--history", type=int, default=1_000_000)
        parser.add_argument("--workers", type=int, default=http.WORKERS)
        parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["child"]:
            self._measure(**options)
            return
        bench = BenchDatabase("bench_coins")
        bench.recreate()
        bench.manage("migrate", "-v0")
        # The host's members for the HTTP runs (the partners' shares of them are not used).
        bench.manage("seed_demo", "--members", str(HTTP_MEMBERS + 50))
        flags = [
            f"--{name}={options[name]}"
            for name in ("clients", "seconds", "wallets", "issuers", "history", "workers")
        ]
        bench.manage("bench_coin_ledger", "--child", *flags, quiet=False)

    def _measure(self, **options: Any) -> None:
        clients, seconds = options["clients"], options["seconds"]
        issuers = self._issuers(options["issuers"])
        people = [Person.objects.create() for _ in range(options["wallets"])]
        wallets = self._fund(people, issuers[0])
        self.stdout.write(
            f"Coin ledger benchmark: {clients} clients, {seconds:g} s per run, "
            f"{len(wallets):,} wallets, {len(issuers)} issuers (PostgreSQL "
            f"{getattr(connection, 'pg_version', 0) // 10000})"
        )
        baseline = self._postings(clients, seconds, people, wallets, issuers)
        host = Partner.objects.get(slug=members.HOST)
        members.program_in_force(host, Partner.objects.get(slug=members.BRAND))
        key = members.api_key(host)
        posting, readers = members.host_members(host, HTTP_MEMBERS, funded=HTTP_MEMBERS - 2)
        self._http(http.Load(key, options["workers"], clients, seconds), posting, baseline)
        self._reads(options["history"], readers, http.Load(key, options["workers"], 1, seconds))
        mismatch = ledger_verify()
        self.stdout.write(
            f"\nLedger verified after the runs: {'yes' if mismatch is None else mismatch}"
        )

    def _postings(
        self,
        clients: int,
        seconds: float,
        people: list[Person],
        wallets: list[CoinAccount],
        issuers: list[Partner],
    ) -> float:
        """Runs 1 and 2; the baseline's postings per second."""
        pairs = [
            (BASELINE, runs.raw_transfer([wallet.pk for wallet in wallets])),
            ("ledger.post (transfer)", runs.service_transfer(wallets)),
            ("coins_earn spread over issuers", runs.earning(people, issuers)),
            ("coins_earn, one issuer funds all", runs.earning(people, issuers[:1])),
        ]
        rates = {}
        for name, work in pairs:
            runs.throughput(clients, seconds, work)  # warm-up, same length
            rates[name] = runs.throughput(clients, seconds, work)
        baseline, service = rates[BASELINE], rates["ledger.post (transfer)"]
        spread, one = (
            rates["coins_earn spread over issuers"],
            rates["coins_earn, one issuer funds all"],
        )
        self.stdout.write("\n1. Postings per second")
        for name, rate in rates.items():
            self.stdout.write(f"   {name:<36} {rate:>9,.0f} /s")
        self.stdout.write(
            f"   ledger.post / raw SQL baseline      {service / baseline:>9.2f}x  (aim ≥ 0.5x)"
        )
        self.stdout.write(
            f"2. one issuer / spread over issuers   {one / spread:>9.2f}x  (aim ≥ 0.9x)"
        )
        return baseline

    def _http(self, load: http.Load, posting: list[MemberAccount], baseline: float) -> None:
        """Run 3: earn and redeem through the API; beside it, on the same server and clients,
        the health check (what the server and the clients cost alone), and the same API load
        with one client per core (the latency without queueing for a core)."""
        health = http.Call("health", "GET", "/health/", expect=200)
        (rate, timings), (floor, _) = load.runs(
            [members.earn_and_redeem(posting), lambda _rng: health]
        )
        few = dataclasses.replace(load, clients=os.cpu_count() or 2)
        few_rate, few_timings = few.run(members.earn_and_redeem(posting))
        self.stdout.write(
            f"3. HTTP API: gunicorn, {load.workers} sync workers, {load.clients} clients, "
            "purchases and redemptions at random"
        )
        self.stdout.write(f"   {'requests':<36} {rate:>9,.0f} /s")
        self.stdout.write(f"   HTTP API / raw SQL baseline         {rate / baseline:>9.2f}x")
        self.stdout.write(f"   {'GET /health/, same server':<36} {floor:>9,.0f} /s")
        for label, samples in sorted(timings.by_label.items()):
            self.stdout.write(f"   {label:<36} {http.summary(samples)}")
        self.stdout.write(
            f"   {'all requests':<36} {http.summary(timings.all())}  (aim p99 < 20 ms)"
        )
        self.stdout.write(
            f"   {f'{few.clients} clients (one per core)':<36} {few_rate:>9,.0f} /s  "
            f"{http.summary(few_timings.all())}"
        )

    def _issuers(self, count: int) -> list[Partner]:
        existing = list(Partner.objects.order_by("slug"))
        for n in range(len(existing), count):
            existing.append(
                partner_services.partner_create(
                    slug=f"bench-issuer-{n}",
                    name_ja=f"ベンチ発行元{n}",
                    name_latin=f"Bench Issuer {n}",
                    actor=SYSTEM,
                )
            )
        return existing[:count]

    def _fund(self, people: list[Person], issuer: Partner) -> list[CoinAccount]:
        """Every wallet funded once, so transfers never run short."""
        with transaction.atomic():
            for person in people:
                coins_earn(Grant(person, issuer, FUNDING, Decimal(1)), actor=SYSTEM)
        return [member_account(person) for person in people]

    def _reads(self, history: int, readers: list[MemberAccount], load: http.Load) -> None:
        """Run 4: the balance of a wallet with a long history, and of one with a short one."""
        long_member, short_member = readers
        loaded = history_load(member_person(long_member), history)
        history_load(member_person(short_member), SHORT_HISTORY)
        long_, short = member_person(long_member), member_person(short_member)
        long_us = runs.read_latency(lambda: balance_of(long_))
        short_us = runs.read_latency(lambda: balance_of(short))
        n, m = f"{history:,}", f"{SHORT_HISTORY:,}"
        self.stdout.write(f"4. balance reads ({n} entries loaded in SQL in {loaded:.0f} s)")
        self.stdout.write(f"   {'balance_of, ' + n + ' entries':<36} {long_us:>9.0f} µs median")
        self.stdout.write(f"   {'balance_of, ' + m + ' entries':<36} {short_us:>9.0f} µs median")
        self.stdout.write(
            f"   {n + ' / ' + m + ' entries':<36} {long_us / short_us:>9.2f}x  (flat: ~1x)"
        )
        (_, long_http), (_, short_http) = load.runs(
            [members.balance_read(long_member), members.balance_read(short_member)]
        )
        for label, timings in ((n, long_http), (m, short_http)):
            text = f"API balance, {label} entries"
            self.stdout.write(f"   {text:<36} {http.summary(timings.all())}")
        ratio = http.percentile(long_http.all(), 50) / http.percentile(short_http.all(), 50)
        self.stdout.write(f"   {n + ' / ' + m + ' entries, p50':<36} {ratio:>9.2f}x  (flat: ~1x)")
