"""A period's ledger for the settlement benchmark, loaded in SQL: ``entries`` coin entries over
``COMPANIES`` companies of one alliance, as the coin ledger would have them.

Each unit of four entries is a purchase and a redemption: company A issues ``COINS`` coins to a
member (a transaction, two entries, a lot at A's funding rate), then the member spends them at
company B (a transaction, two entries, the lot's use with A as issuer and the yen value). The
issuer goes round the companies and the company spent at round the others, so every ordered
pair of distinct companies settles; members are ``PEOPLE`` wallets taken in turn. Balances and
versions follow in closed form, so the books hold (``ledger_verify``) after the load.

The ledger's triggers are off for the load alone (``session_replication_role``, as the coin
benchmark's ``history.py``), committed in chunks; the ids ascend, so the load appends to the
indexes instead of scattering over them.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from federation.agreements import services as agreement_services
from federation.coins.models import CoinAccount, CoinEntry
from federation.coins.services import account_for
from federation.settlement.models import SettlementPeriod
from federation.settlement.services import period_create
from partners import services as partner_services
from partners.actors import Actor
from partners.models import Partner, Person
from partners.partitions import month_partitions_create

SYSTEM = Actor.system()
COMPANIES = 20
PEOPLE = 10_000
COINS = 10
CHUNK = 250_000  # units: a million entries a transaction
FIRST_DAY = date(2026, 1, 1)
SECONDS = 28 * 24 * 3600  # the units are spread over the period's first 28 days

_PREFIX = "5e771e00-0000-4000-8000-"
_EARN = f"('{_PREFIX}' || lpad(to_hex(2 * g), 12, '0'))::uuid"
_REDEEM = f"('{_PREFIX}' || lpad(to_hex(2 * g + 1), 12, '0'))::uuid"
# Per unit g: issuer i, row j (one unit per issuer), company spent at r (never i: each row
# pairs every issuer with another company, once), member w and their k-th unit.
_UNIT = f"""
SELECT g, g %% {COMPANIES} AS i, g / {COMPANIES} AS j,
       (g %% {COMPANIES} + 1 + (g / {COMPANIES}) %% {COMPANIES - 1}) %% {COMPANIES} AS r,
       g %% %(people)s AS w, g / %(people)s AS k,
       %(starts_at)s + (g::bigint * %(step)s::bigint) * interval '1 microsecond' AS at
  FROM generate_series(%(first)s, %(last)s) AS g
"""  # noqa: S608 - constants
_TRANSACTIONS = f"""
INSERT INTO federation_cointransaction (id, kind, partner_id, reason, reference, posted_at)
SELECT {_EARN}, 'earn_purchase', (%(companies)s::uuid[])[i + 1], '{{}}'::jsonb, '', at
  FROM ({_UNIT}) AS u
 UNION ALL
SELECT {_REDEEM}, 'redeem', (%(companies)s::uuid[])[r + 1], '{{}}'::jsonb, '', at + interval '1 ms'
  FROM ({_UNIT}) AS u
"""  # noqa: S608 - constants
_ENTRIES = f"""
INSERT INTO federation_coinentry
       (transaction_id, account_id, amount, balance_after, account_version, posted_at)
SELECT {_EARN}, (%(liabilities)s::bigint[])[i + 1], -{COINS}, -{COINS} * (j + 1), j + 1, at
  FROM ({_UNIT}) AS u
 UNION ALL
SELECT {_EARN}, (%(wallets)s::bigint[])[w + 1], {COINS}, {COINS}, 2 * k + 1, at
  FROM ({_UNIT}) AS u
 UNION ALL
SELECT {_REDEEM}, (%(wallets)s::bigint[])[w + 1], -{COINS}, 0, 2 * k + 2, at + interval '1 ms'
  FROM ({_UNIT}) AS u
 UNION ALL
SELECT {_REDEEM}, (%(redemptions)s::bigint[])[r + 1], {COINS}, {COINS} * (j + 1), j + 1,
       at + interval '1 ms'
  FROM ({_UNIT}) AS u
"""  # noqa: S608 - constants
_LOTS = f"""
INSERT INTO federation_coinlot (id, person_id, issuer_id, earned_by_id, yen_per_coin, amount,
       remaining, issued_at, expires_at)
SELECT g + 1, (%(people_ids)s::uuid[])[w + 1], (%(companies)s::uuid[])[i + 1], {_EARN},
       (%(rates)s::numeric[])[i + 1], {COINS}, 0, at, at + interval '365 days'
  FROM ({_UNIT}) AS u
"""  # noqa: S608 - constants
_USES = f"""
INSERT INTO federation_coinlotuse (transaction_id, lot_id, issuer_id, coins, yen_value)
SELECT {_REDEEM}, g + 1, (%(companies)s::uuid[])[i + 1], {COINS},
       {COINS} * (%(rates)s::numeric[])[i + 1]
  FROM ({_UNIT}) AS u
"""  # noqa: S608 - constants
# Every account's balance and version from its last entry: the accounts with entries, one
# index probe each per month partition (probing every account, most of them without entries,
# took 20 of the metrics benchmark's 30 s of load once the entries were partitioned).
_ACCOUNTS = """
UPDATE federation_coinaccount AS a
   SET balance = last.balance_after, version = last.account_version
  FROM (SELECT DISTINCT account_id FROM federation_coinentry) AS b
 CROSS JOIN LATERAL (
       SELECT e.balance_after, e.account_version FROM federation_coinentry AS e
        WHERE e.account_id = b.account_id ORDER BY e.account_version DESC LIMIT 1) AS last
 WHERE a.id = b.account_id
"""


@dataclass(frozen=True)
class Alliance:
    host: Partner
    companies: list[Partner]
    people: list[uuid.UUID]  # the members' persons, each with a wallet
    rates: list[Decimal]


def rate(n: int) -> Decimal:
    """Company ``n``'s funding rate, yen per coin: uneven, so the yen have fractions."""
    return (Decimal(1 + n * 37 % 97) / Decimal(61)).quantize(Decimal("0.0001"))


def alliance(people: int = PEOPLE) -> Alliance:
    """The host, nineteen more companies (one agreement binds them all: they are the
    alliance) and each company's accounts, through the services; ``people`` persons and their
    wallets, in SQL."""
    host = partner_services.partner_create(
        slug="bench-host", name_ja="ベンチ本部", name_latin="Bench Host", kind="host", actor=SYSTEM
    )
    companies = [host] + [
        partner_services.partner_create(
            slug=f"bench-company-{n:02d}",
            name_ja=f"ベンチ会社{n}",
            name_latin=f"Bench Company {n}",
            actor=SYSTEM,
        )
        for n in range(1, COMPANIES)
    ]
    flows = [
        {"provider": host.slug, "recipient": c.slug, "purpose": "coin_exchange", "fields": ["name"]}
        for c in companies[1:]
    ]
    agreement_services.agreement_create(
        title="Settlement benchmark",
        host=host,
        parties=[
            agreement_services.PartyInput(c, c.name_latin, f"bench@{c.slug}.example")
            for c in companies
        ],
        terms={"data_flows": flows},
        effective_from=timezone.localdate(),
        valid_until=timezone.localdate() + timedelta(days=365),
        actor=SYSTEM,
    )
    return Alliance(host, companies, _people(people), [rate(n) for n in range(COMPANIES)])


def _people(count: int) -> list[uuid.UUID]:
    """``count`` new persons with a wallet each, inserted set-based; their ids."""
    person, account = Person._meta.db_table, CoinAccount._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {person} (id, created_at) "  # noqa: S608 - table names
            "SELECT gen_random_uuid(), now() FROM generate_series(1, %s) RETURNING id",
            [count],
        )
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"INSERT INTO {account} (kind, person_id, shard, balance, version, created_at) "  # noqa: S608
            "SELECT %s, id, 0, 0, 0, now() FROM unnest(%s::uuid[]) AS id",
            [CoinAccount.Kind.WALLET, ids],
        )
    return ids


def period_of(host: Partner) -> SettlementPeriod:
    """The month the load fills (January 2026), a draft."""
    return period_create(
        host=host, starts_on=FIRST_DAY, ends_on=FIRST_DAY.replace(day=31), actor=SYSTEM
    )


def load(alliance: Alliance, period: SettlementPeriod, entries: int) -> float:
    """``entries`` entries (rounded down to whole units of four) into ``period``; the seconds
    the load took, the accounts' balances included."""
    return load_spread(alliance, period.starts_at, entries, seconds=SECONDS)


def load_spread(alliance: Alliance, starts_at: datetime, entries: int, *, seconds: int) -> float:
    """``entries`` entries spread evenly over ``seconds`` from ``starts_at``; the seconds the
    load took. The members are the alliance's persons, taken in turn."""
    units = entries // 4
    wallets = dict(
        CoinAccount.objects.filter(kind=CoinAccount.Kind.WALLET).values_list("person_id", "id")
    )
    params: dict[str, Any] = {
        "people": len(alliance.people),
        "step": seconds * 1_000_000 // max(units, 1),
        "starts_at": starts_at,
        "companies": [c.pk for c in alliance.companies],
        "people_ids": alliance.people,
        "rates": alliance.rates,
        "wallets": [wallets[p] for p in alliance.people],
        "liabilities": _accounts(CoinAccount.Kind.LIABILITY, alliance.companies),
        "redemptions": _accounts(CoinAccount.Kind.REDEMPTION, alliance.companies),
    }
    began = time.perf_counter()
    _entry_partitions(starts_at, seconds)
    for first in range(0, units, CHUNK):
        chunk = {**params, "first": first, "last": min(first + CHUNK, units) - 1}
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            for sql in (_TRANSACTIONS, _ENTRIES, _LOTS, _USES):
                cursor.execute(sql, chunk)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_ACCOUNTS)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('federation_coinlot', 'id'), %s)",
            [max(units, 1)],
        )
        cursor.execute("ANALYZE")
    return time.perf_counter() - began


def _entry_partitions(starts_at: datetime, seconds: int) -> None:
    """The months loaded get their entry partitions first, as the migration and the daily task
    make them for real postings; else every entry would land in the default partition."""
    first = starts_at.astimezone(UTC).date().replace(day=1)
    last = (starts_at + timedelta(seconds=seconds, milliseconds=1)).astimezone(UTC).date()
    months = (last.year - first.year) * 12 + last.month - first.month
    month_partitions_create(
        table=CoinEntry._meta.db_table, column="posted_at", months_ahead=months, today=first
    )


def _accounts(kind: CoinAccount.Kind, companies: list[Partner]) -> list[int]:
    return [account_for(kind, partner=company).pk for company in companies]
