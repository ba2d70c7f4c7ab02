"""Benchmark: the coin ledger's postings against a raw-SQL baseline, on PostgreSQL.

Runs in a database of its own (``<database>_bench_coins``, recreated each run), with the demo
alliance's companies plus issuers enough to spread over. In one process and on the same data,
with the same triggers and constraints on both sides, it reports:

1. transfers per second at ``--clients`` concurrent clients through ``ledger.post`` against
   the raw-SQL baseline (``federation/coins/bench/baseline.sql``: lock two accounts in id
   order, move balance and version, insert the transaction and its two entries);
2. earnings per second (``coins_earn``: posting, lot, audit row) when every coin is funded by
   one issuer, against the same spread over many issuers: the liability is split in shards,
   so one popular issuer is no hot row;
3. the median time of a balance read on an account with ``--history`` entries against one
   with 10,000: it reads the account's row, whatever the history.

Each throughput is measured for ``--seconds`` after a warm-up of the same length.
"""

import argparse
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

from config.bench import BenchDatabase
from federation.coins.bench import runs
from federation.coins.models import CoinAccount, CoinTransaction
from federation.coins.selectors import balance_of, ledger_verify
from federation.coins.services import (
    Grant,
    Leg,
    account_for,
    coins_earn,
    member_account,
    post,
)
from partners import services as partner_services
from partners.actors import Actor
from partners.models import Partner, Person

SYSTEM = Actor.system()
FUNDING = 1_000_000_000

# A long history for one account, written in SQL with the ledger's triggers off for the load
# alone (session_replication_role): a balanced transaction per pair of entries all the same.
_HISTORY = """
WITH tx AS (
    INSERT INTO federation_cointransaction (id, kind, reason, reference, posted_at)
    SELECT gen_random_uuid(), 'transfer', '{}', '', now() FROM generate_series(1, %(n)s)
    RETURNING id
), numbered AS (SELECT id, row_number() OVER () AS n FROM tx)
INSERT INTO federation_coinentry
       (transaction_id, account_id, amount, balance_after, account_version)
SELECT id, %(account)s, 1, n, n FROM numbered
UNION ALL
SELECT id, %(other)s, -1, -n, n FROM numbered
"""


class Command(BaseCommand):
    help = "Time ledger postings against a raw-SQL baseline (see the module's doc)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=8)
        parser.add_argument("--seconds", type=float, default=5.0)
        parser.add_argument("--wallets", type=int, default=2000)
        parser.add_argument("--issuers", type=int, default=16)
        parser.add_argument("--history", type=int, default=1_000_000)
        parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["child"]:
            self._measure(**options)
            return
        bench = BenchDatabase("bench_coins")
        bench.recreate()
        bench.manage("migrate", "-v0")
        bench.manage("seed_demo", "--members", "0")
        flags = [
            f"--{name}={options[name]}"
            for name in ("clients", "seconds", "wallets", "issuers", "history")
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
        ids = [wallet.pk for wallet in wallets]
        pairs = [
            ("raw SQL baseline (transfer)", runs.raw_transfer(ids)),
            ("ledger.post (transfer)", runs.service_transfer(wallets)),
            ("coins_earn spread over issuers", runs.earning(people, issuers)),
            ("coins_earn, one issuer funds all", runs.earning(people, issuers[:1])),
        ]
        rates = {}
        for name, work in pairs:
            runs.throughput(clients, seconds, work)  # warm-up, same length
            rates[name] = runs.throughput(clients, seconds, work)
        baseline, service = rates["raw SQL baseline (transfer)"], rates["ledger.post (transfer)"]
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
        self._reads(options["history"])
        mismatch = ledger_verify()
        self.stdout.write(
            f"\nLedger verified after the runs: {'yes' if mismatch is None else mismatch}"
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

    def _reads(self, history: int) -> None:
        short, long_ = (self._account_with(n) for n in (10_000, history))
        short_us = runs.read_latency(lambda: balance_of(short))
        long_us = runs.read_latency(lambda: balance_of(long_))
        self.stdout.write(
            f"3. balance read, {history:,} entries    {long_us:>9.0f} µs median\n"
            f"   balance read, 10,000 entries       {short_us:>9.0f} µs median\n"
            f"   {history:,} / 10,000 entries          {long_us / short_us:>9.2f}x  (flat: ~1x)"
        )

    def _account_with(self, entries: int) -> Person:
        """A member whose wallet has ``entries`` entries, against an account of its own."""
        person = Person.objects.create()
        wallet = member_account(person)
        issuer = Partner.objects.order_by("slug").first()
        shard = 9000 + CoinAccount.objects.filter(kind=CoinAccount.Kind.BREAKAGE).count()
        other = account_for(CoinAccount.Kind.BREAKAGE, partner=issuer, shard=shard)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(_HISTORY, {"n": entries, "account": wallet.pk, "other": other.pk})
        CoinAccount.objects.filter(pk=wallet.pk).update(balance=entries, version=entries)
        CoinAccount.objects.filter(pk=other.pk).update(balance=-entries, version=entries)
        post(CoinTransaction.Kind.TRANSFER, [Leg(wallet, -1), Leg(other, 1)])
        return person
