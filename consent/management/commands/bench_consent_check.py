"""Benchmark: the consent check, single and batched, against a bare database round trip.

Runs in a database of its own (``<database>_bench_consent``, recreated each run): the demo
alliance with a synthetic host base, a notice, and consents for half of the members. It then
reports, in one process: prepared ``SELECT 1`` round trips per second (the floor any check that
reads the database pays), single ``consent_check`` calls per second reading the database (in a
transaction), filling the per-process cache and answered from it, ``consent_check_many`` checks
per second in batches of 1,000, and how long a change committed by another connection takes to
reach the cache.
"""

import argparse
import statistics
import time
from datetime import timedelta
from typing import Any
from uuid import UUID

import psycopg
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from config.bench import BenchDatabase
from consent import check_cache
from consent.models import PrivacyNotice
from consent.selectors import consent_check, consent_check_many
from consent.services import consent_grant, notice_publish
from partners.actors import Actor
from partners.models import MemberAccount, Partner


class Command(BaseCommand):
    help = "Measure consent checks per second against bare round trips (see module doc)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--members", type=int, default=10_000)
        parser.add_argument("--checks", type=int, default=20_000)
        parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["child"]:
            self._measure(options["checks"])
            return
        bench = BenchDatabase("bench_consent")
        bench.recreate()
        bench.manage("migrate", "-v0")
        bench.manage("seed_demo", "--members", str(options["members"]))
        bench.manage(
            "bench_consent_check", "--child", "--checks", str(options["checks"]), quiet=False
        )

    def _measure(self, checks: int) -> None:
        host = Partner.objects.get(kind=Partner.Kind.HOST)
        brand = Partner.objects.get(slug="midori-fitness")
        notice = notice_publish(
            version=1,
            language="ja",
            text="ベンチマーク用の通知",
            purposes=["cross_enrollment"],
            recipients=[host, brand],
            data_items=["name", "email"],
            effective_at=timezone.now() - timedelta(days=1),
            actor=Actor.system(),
        )
        members = list(MemberAccount.objects.filter(partner=host).values_list("pk", flat=True))
        granted, grant_rate = _grant(members[::2], brand, notice)
        floor = _round_trips(checks)
        with transaction.atomic():  # inside a transaction every check reads the database
            uncached, allowed = _single_checks(members, brand, checks)
        if not check_cache.cache.usable():
            raise CommandError("The consent cache's listener did not start.")
        check_cache.cache.clear()
        # The first pass over the members fills the cache.
        cold, _ = _single_checks(members, brand, checks)
        warm, warm_allowed = _single_checks(members, brand, checks)
        if warm_allowed != allowed:
            raise CommandError("Cached and uncached checks disagree.")
        latency = self._notification_latency(members[0], brand)
        batched = _batched_checks(members, brand, checks)

        self.stdout.write(
            f"{len(members):,} members, {granted:,} consents recorded ({grant_rate:,.0f}/s); "
            f"{checks:,} checks each way, {allowed:,} allowed"
        )
        for label, rate in (
            ("prepared SELECT 1 round trips", floor),
            ("consent_check, database", uncached),
            ("consent_check, cache filling", cold),
            ("consent_check, cache warm", warm),
            ("consent_check_many (1,000)", batched),
        ):
            self.stdout.write(f"  {label:<30} {rate:>10,.0f} /s  ({rate / floor:.2f}x baseline)")
        latency.sort()
        self.stdout.write(
            f"  a change committed elsewhere reaches the cache in {statistics.median(latency):.2f} "
            f"ms median, {latency[int(len(latency) * 0.99)]:.2f} ms p99 "
            f"({len(latency)} changes)"
        )

    def _notification_latency(self, member_id: Any, brand: Partner) -> list[float]:
        """Milliseconds from the commit of a change in another connection until this
        process's cache has forgotten the member."""
        cache = check_cache.cache
        samples = []
        with psycopg.connect(
            check_cache._conninfo(connection.settings_dict, "bench"), autocommit=True
        ) as other:
            for _ in range(200):
                consent_check(member_id=member_id, purpose_code="cross_enrollment", recipient=brand)
                if cache.state(member_id, "cross_enrollment", brand.pk) is check_cache.MISSING:
                    raise CommandError("The check did not fill the cache.")
                other.execute(
                    "UPDATE consent_consentstate SET changed_at = changed_at WHERE member_id = %s",
                    [member_id],
                )
                committed = time.perf_counter()
                while (
                    cache.state(member_id, "cross_enrollment", brand.pk) is not check_cache.MISSING
                ):
                    time.sleep(0)
                samples.append((time.perf_counter() - committed) * 1000)
        return samples


def _grant(member_ids: list[UUID], brand: Partner, notice: PrivacyNotice) -> tuple[int, float]:
    """Grant these members' consent to ``brand``; return how many, and how many per second."""
    started = time.perf_counter()
    with transaction.atomic():
        for member in MemberAccount.objects.filter(pk__in=member_ids):
            consent_grant(
                member=member,
                purpose_code="cross_enrollment",
                recipient=brand,
                notice=notice,
                channel="host_portal",
                occurred_at=timezone.now() - timedelta(minutes=1),
                actor=Actor.system(),
            )
    return len(member_ids), len(member_ids) / (time.perf_counter() - started)


def _round_trips(checks: int) -> float:
    """Prepared ``SELECT 1`` round trips per second: the floor of any check that reads."""
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as raw:
        started = time.perf_counter()
        for _ in range(checks):
            raw.execute("SELECT 1", prepare=True)
            raw.fetchone()
        return checks / (time.perf_counter() - started)


def _single_checks(member_ids: list[UUID], brand: Partner, checks: int) -> tuple[float, int]:
    """``consent_check`` calls per second over the members in turn, and how many allowed."""
    started = time.perf_counter()
    allowed = 0
    for n in range(checks):
        allowed += consent_check(
            member_id=member_ids[n % len(member_ids)],
            purpose_code="cross_enrollment",
            recipient=brand,
        ).allowed
    return checks / (time.perf_counter() - started), allowed


def _batched_checks(member_ids: list[UUID], brand: Partner, checks: int) -> float:
    """Checks per second through ``consent_check_many``, 1,000 members a call."""
    started = time.perf_counter()
    for start in range(0, checks, 1000):
        batch = [member_ids[(start + k) % len(member_ids)] for k in range(1000)]
        consent_check_many(member_ids=batch, purpose_code="cross_enrollment", recipient=brand)
    return checks / (time.perf_counter() - started)
