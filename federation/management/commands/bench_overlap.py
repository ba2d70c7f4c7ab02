"""Benchmark: the overlap of a 1,000,000-member base with a 5,000,000-member base.

Runs in a database of its own (``<database>_bench_overlap``, recreated each run). The demo
alliance gives the companies; the two bases are generated in SQL (blind indexes are 16 bytes
like the real ones; 30% of the smaller base is also in the larger one, a fifth of those matched
by phone alone; 80% of each base consented to overlap matching with the other party). It then
times, in one process and on the same data:

- the baseline: the plain SQL join of the two bases on the e-mail index, counting matches;
- the plain SQL join on e-mail or phone, the service's match without consent: the least any
  answer to the question must do, since a member matches on either of two keys;
- the service's question written by hand in SQL (e-mail or phone, both sides consenting);
- ``overlap_counts``: the same question as the service asks it, with both consents and the
  phone index, as a total and broken down by age band.

Each is run three times; the best time counts (the data is cached after the first run).
"""

import argparse
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.utils import timezone

from config.bench import BenchDatabase
from consent.models import PrivacyNotice
from consent.services import notice_publish
from federation import services
from federation.services import PartyInput
from partners import pii
from partners.actors import Actor
from partners.models import Partner

SYSTEM = Actor.system()

# The baseline: the plain join of the two bases on the e-mail index.
_EMAIL_JOIN = """
SELECT count(*) FROM partners_memberaccount a
JOIN partners_memberaccount b
  ON b.index_key_id = a.index_key_id AND b.email_index = a.email_index
WHERE a.partner_id = %s AND b.partner_id = %s
"""

# The service's match, e-mail or phone, as plain SQL: two joins and a union.
_SAME_MATCH = """
SELECT count(DISTINCT matched.id) FROM (
    SELECT a.id FROM partners_memberaccount a
    JOIN partners_memberaccount b
      ON b.index_key_id = a.index_key_id AND b.email_index = a.email_index
    WHERE a.partner_id = %s AND b.partner_id = %s
    UNION ALL
    SELECT a.id FROM partners_memberaccount a
    JOIN partners_memberaccount b
      ON b.index_key_id = a.index_key_id AND b.phone_index = a.phone_index
    WHERE a.partner_id = %s AND b.partner_id = %s
) matched
"""

# The service's question written straight in SQL: e-mail or phone, both consents.
_BY_HAND = """
WITH consenting AS (
    SELECT m.id, m.partner_id, m.index_key_id, m.email_index, m.phone_index
    FROM partners_memberaccount m
    JOIN consent_consentstate c ON c.member_id = m.id
    WHERE m.status = 'active' AND c.granted AND c.purpose_id = %s
      AND ((m.partner_id = %s AND c.recipient_id = %s)
        OR (m.partner_id = %s AND c.recipient_id = %s))
)
SELECT count(*) FROM (
    SELECT a.id FROM consenting a JOIN consenting b
      ON b.index_key_id = a.index_key_id AND b.email_index = a.email_index
    WHERE a.partner_id = %s AND b.partner_id = %s
    UNION
    SELECT a.id FROM consenting a JOIN consenting b
      ON b.index_key_id = a.index_key_id AND b.phone_index = a.phone_index
    WHERE a.partner_id = %s AND b.partner_id = %s
) matched
"""

_INSERT_MEMBERS = """
INSERT INTO partners_memberaccount (
    id, partner_id, member_number, kind, status, master_key_id, wrapped_key,
    index_key_id, email_index, phone_index, record_digest, birth_year,
    prefecture, created_at, updated_at)
SELECT gen_random_uuid(), %(partner)s, %(prefix)s || n,
       CASE WHEN n %% 7 = 0 THEN 'business' ELSE 'household' END,
       'active', 'bench', '\\x00'::bytea, %(key)s,
       -- one person in five is known here by phone alone
       CASE WHEN n %% 5 = 0 AND %(prefix)s = 'T' THEN NULL
            ELSE decode(md5('mail' || (n + %(offset)s)), 'hex') END,
       decode(md5('tel' || (n + %(offset)s)), 'hex'),
       '\\x00'::bytea, 1940 + (n + %(offset)s) %% 65,
       lpad(((n + %(offset)s) %% 47 + 1)::text, 2, '0'), now(), now()
FROM generate_series(1, %(count)s) AS n
"""

# 80% of the partner's members consent to overlap matching with the other party.
_CHOOSE_CONSENTING = """
CREATE TEMP TABLE bench_consent AS
SELECT gen_random_uuid() AS event_id, id AS member_id, now() AS recorded_at
FROM partners_memberaccount
WHERE partner_id = %(partner)s AND hashtext(member_number) %% 5 <> 0
"""

_INSERT_CONSENT_EVENTS = """
INSERT INTO consent_consentevent (
    id, member_id, sequence, purpose_id, recipient_id, action, occurred_at,
    recorded_at, channel, captured_by, notice_id, jurisdiction, previous_hash,
    hash)
SELECT event_id, member_id, 1, 'overlap_matching', %(other)s, 'granted',
       now() - interval '1 hour', recorded_at, 'paper', 'bench', %(notice)s, 'JP',
       repeat('0', 64), encode(sha256(event_id::text::bytea), 'hex')
FROM bench_consent
"""

_INSERT_CONSENT_STATES = """
INSERT INTO consent_consentstate (
    member_id, purpose_id, recipient_id, granted, notice_id, event_id,
    event_recorded_at, changed_at)
SELECT member_id, 'overlap_matching', %(other)s, true, %(notice)s, event_id,
       recorded_at, now()
FROM bench_consent
"""


class Command(BaseCommand):
    help = "Time the overlap of two large member bases against a plain SQL join (see doc)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--small", type=int, default=1_000_000, help="Members of the host.")
        parser.add_argument("--large", type=int, default=5_000_000, help="Members of the brand.")
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="Measure again on the bases the last run generated (generating takes minutes).",
        )
        parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["child"]:
            self._measure(options["small"], options["large"], generate=not options["reuse"])
            return
        bench = BenchDatabase("bench_overlap")
        if not options["reuse"]:
            bench.recreate()
            bench.manage("migrate", "-v0")
            bench.manage("seed_demo", "--members", "0")
        bench.manage(
            "bench_overlap",
            "--child",
            *(["--reuse"] if options["reuse"] else []),
            "--small",
            str(options["small"]),
            "--large",
            str(options["large"]),
            quiet=False,
        )

    def _measure(self, small: int, large: int, *, generate: bool) -> None:
        # The benchmark asks the same question over and over, run after run: no budget here.
        settings.SANPO_OVERLAP_QUESTIONS_PER_MONTH = 1_000_000
        host = Partner.objects.get(kind=Partner.Kind.HOST)
        brand = Partner.objects.get(slug="tsubame-travel")
        if generate:
            self._agree(host, brand)
            started = time.perf_counter()
            self._generate(host, small, offset=0, prefix="H")
            # The larger base starts where 30% of the smaller one is still ahead of it.
            self._generate(brand, large, offset=int(small * 0.7), prefix="T")
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            generated = time.perf_counter() - started
            self.stdout.write(f"bases generated in {generated:.0f} s")
        sizes = [host.members.count(), brand.members.count()]
        self.stdout.write(f"{sizes[0]:,} host members, {sizes[1]:,} brand members")

        rows = [(label, *_best(run)) for label, run in _questions(host, brand)]
        base_seconds, match_seconds = rows[0][1], rows[1][1]  # the two plain joins
        self.stdout.write(f"  {'':<44} {'time':>9}  {'matched':>9}  vs. baseline  vs. same match")
        for label, seconds, count in rows:
            self.stdout.write(
                f"  {label:<44} {seconds:7.2f} s  {count:>9,}  {seconds / base_seconds:11.2f}x"
                f"  {seconds / match_seconds:13.2f}x"
            )
        self.stdout.write(
            "  (the joins count matches in both bases regardless of consent; the service counts "
            "consented members only, and shows it with noise of scale "
            f"{settings.SANPO_OVERLAP_NOISE_SCALE})"
        )

    def _agree(self, host: Partner, brand: Partner) -> None:
        notice_publish(
            version=1,
            language="ja",
            text="ベンチマーク用の通知",
            purposes=["overlap_matching"],
            recipients=[host, brand],
            data_items=["age_band"],
            effective_at=timezone.now() - timedelta(days=1),
            actor=Actor.system(),
        )
        today = timezone.localdate()
        agreement = services.agreement_create(
            title="Benchmark overlap",
            host=host,
            parties=[
                PartyInput(host, "Bench", "bench@host.example"),
                PartyInput(brand, "Bench", "bench@brand.example"),
            ],
            terms={
                "data_flows": [
                    {
                        "provider": brand.slug,
                        "recipient": host.slug,
                        "purpose": "overlap_matching",
                        "fields": ["age_band"],
                    }
                ]
            },
            effective_from=today,
            valid_until=today + timedelta(days=30),
            actor=SYSTEM,
        )
        version = services.version_propose(version=agreement.versions.get(), actor=SYSTEM)
        for party in (host, brand):
            services.version_sign(version=version, partner=party, signed_by="Bench", actor=SYSTEM)
        services.overlap_visibility_set(owner=brand, viewer=host, level="counts", actor=SYSTEM)

    def _generate(self, partner: Partner, count: int, *, offset: int, prefix: str) -> None:
        """``count`` members whose people are numbered ``offset + 1`` on; the consent of 80% of
        them to overlap matching with the other party."""
        other = Partner.objects.exclude(pk=partner.pk).get(slug__in=["kirari", "tsubame-travel"])
        notice = PrivacyNotice.objects.get()
        with connection.cursor() as cursor:
            # Generated rows need no cache invalidation: no process caches this throw-away
            # database's consents, and millions of notifications would only slow the load.
            cursor.execute("SET session_replication_role = replica")
            cursor.execute(
                _INSERT_MEMBERS,
                {
                    "partner": partner.pk,
                    "prefix": prefix,
                    "key": pii.current_index_key_id(),
                    "offset": offset,
                    "count": count,
                },
            )
            cursor.execute(_CHOOSE_CONSENTING, {"partner": partner.pk})
            consents = {"other": other.pk, "notice": notice.pk}
            cursor.execute(_INSERT_CONSENT_EVENTS, consents)
            cursor.execute(_INSERT_CONSENT_STATES, consents)
            cursor.execute("DROP TABLE bench_consent")
            cursor.execute("SET session_replication_role = DEFAULT")


def _questions(host: Partner, brand: Partner) -> list[tuple[str, Callable[[], int]]]:
    """What is timed, each answering how many members the two bases share."""
    pair = [host.pk, brand.pk]
    by_hand = ["overlap_matching", *(host.pk, brand.pk, brand.pk, host.pk), *(pair * 2)]
    return [
        ("plain join on the e-mail index (baseline)", partial(_count, _EMAIL_JOIN, pair)),
        ("plain join on e-mail or phone (same match)", partial(_count, _SAME_MATCH, pair * 2)),
        ("the same question by hand in SQL", partial(_count, _BY_HAND, by_hand)),
        ("overlap_counts, total", partial(_overlap_total, host, brand, breakdown="")),
        ("overlap_counts, by age", partial(_overlap_total, host, brand, breakdown="age_band")),
    ]


def _count(sql: str, params: list[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


def _overlap_total(host: Partner, brand: Partner, *, breakdown: str) -> int:
    result = services.overlap_counts(asker=host, other=brand, breakdown=breakdown, actor=SYSTEM)
    return result.total or 0


def _best(run: Callable[[], int]) -> tuple[float, int]:
    best, result = float("inf"), 0
    for _ in range(3):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result
