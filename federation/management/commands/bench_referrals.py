"""Benchmark: referral clicks through the public endpoint, and the funnel, on PostgreSQL.

Runs in a database of its own (``<database>_bench_referrals``, recreated each run) seeded
with the demo alliance (Kirari's offer of Midori's trial month). It reports:

1. clicks through ``GET /r/<token>`` under gunicorn (``--workers`` sync workers, production
   settings, ``federation/referrals/bench/http.py``) from ``--clients`` concurrent clients,
   over campaign links and links of members whose consent is checked on each click, against
   a static 302 served by the same server through the same middleware (a URL only the
   benchmark's own settings module has): requests per second, p50, p95 and p99, and the
   ratio; each run lasts ``--seconds`` after a warm-up of the same length;
2. the funnel (``funnel_of``, as ``GET /api/v1/referrals/funnel`` computes it) of the
   destination over 90 days of ``--clicks`` clicks and ``--conversions`` conversions with
   their fees, loaded in SQL (``federation/referrals/bench/load.py``), against plain SQL
   GROUP BYs of the same tables (``baseline.sql``), alternated ``--rounds`` times; the last
   round's seconds of each and their ratio.
"""

import argparse
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.utils import timezone

from config.bench import BenchDatabase
from federation.coins.bench.http import WORKERS
from federation.referrals.bench import funnel, http, load
from federation.referrals.models import ReferralClick, ReferralOffer
from partners.models import Partner


class Command(BaseCommand):
    help = "Time referral clicks and the funnel against baselines (see the module's doc)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=8)
        parser.add_argument("--seconds", type=float, default=5.0)
        parser.add_argument("--workers", type=int, default=WORKERS)
        parser.add_argument("--port", type=int, default=0, help="gunicorn's (0: a free one).")
        parser.add_argument("--clicks", type=int, default=10_000_000)
        parser.add_argument("--conversions", type=int, default=1_000_000)
        parser.add_argument("--rounds", type=int, default=2)
        parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["child"]:
            self._measure(**options)
            return
        bench = BenchDatabase("bench_referrals")
        bench.recreate()
        bench.manage("migrate", "-v0")
        bench.env["LOG_LEVEL"] = "WARNING"  # the demo's webhooks go nowhere here
        bench.manage("seed_demo", "--members", "500")
        bench.manage("seed_demo_consents", "--share", "0.5")
        bench.manage("seed_demo_alliance")
        names = ("clients", "seconds", "workers", "port", "clicks", "conversions", "rounds")
        flags = [f"--{name}={options[name]}" for name in names]
        bench.manage("bench_referrals", "--child", *flags, quiet=False)

    def _measure(self, **options: Any) -> None:
        offer = ReferralOffer.objects.select_related("source", "destination").get(
            source__slug="kirari", destination__slug="midori-fitness"
        )
        self.stdout.write(
            f"Referral benchmark (PostgreSQL {getattr(connection, 'pg_version', 0) // 10000})"
        )
        self._clicks(offer, **options)
        self._funnel(offer, options["clicks"], options["conversions"], options["rounds"])

    def _clicks(self, offer: ReferralOffer, **options: Any) -> None:
        tokens = http.links_for(offer)
        before = ReferralClick.objects.count()
        static, clicks = http.run(
            tokens,
            workers=options["workers"],
            clients=options["clients"],
            seconds=options["seconds"],
            port=options["port"],
        )
        recorded = ReferralClick.objects.count() - before
        self.stdout.write(
            f"1. Clicks: gunicorn, {options['workers']} sync workers, {options['clients']} "
            f"clients, {len(tokens)} links ({options['seconds']:g} s each after a warm-up)"
        )
        self.stdout.write(static.line("static 302, same server (baseline)"))
        self.stdout.write(clicks.line("GET /r/<token>"))
        self.stdout.write(
            f"   {'/r/ / static 302, requests per s':<34} {clicks.rate / static.rate:>8.2f}x"
        )
        self.stdout.write(f"   clicks recorded (warm-ups included): {recorded:,}")

    def _funnel(self, offer: ReferralOffer, clicks: int, conversions: int, rounds: int) -> None:
        seconds = load.load(offer, clicks, conversions)
        destination = Partner.objects.get(pk=offer.destination_id)
        last = timezone.localdate()
        first = last - timedelta(days=load.DAYS)
        timing = funnel.alternate(destination, first, last, rounds)
        self.stdout.write(
            f"2. Funnel over {clicks:,} clicks and {conversions:,} conversions "
            f"({load.OFFERS} offers, {load.DAYS} days; loaded in SQL in {seconds:.0f} s)"
        )
        self.stdout.write(f"   {'plain SQL GROUP BYs (baseline)':<34} {timing.baseline:>8.2f} s")
        self.stdout.write(
            f"   {'funnel_of (the API selector)':<34} {timing.funnel:>8.2f} s"
            f"  ({len(timing.rows):,} rows)"
        )
        self.stdout.write(f"   {'funnel / baseline':<34} {timing.ratio:>8.2f}x  (aim ≤ 1.5x)")
        self.stdout.write(
            f"   same clicks and fees as the baseline: {'yes' if timing.same_totals() else 'no'}"
        )
