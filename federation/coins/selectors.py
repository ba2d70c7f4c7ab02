"""The coin domain's reads: balances (one row each, whatever the history) and the ledger's
verification."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    DateField,
    DateTimeField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from federation.coins.models import (
    CoinAccount,
    CoinEntry,
    CoinHold,
    CoinLot,
    CoinLotUse,
    CoinTransaction,
)
from partners.models import MemberAccount, Partner, Person


def balance_of(person: Person, kind: CoinAccount.Kind = CoinAccount.Kind.WALLET) -> int:
    """A member's balance of that kind: the account row's own figure, O(1)."""
    account = CoinAccount.objects.filter(kind=kind, person=person, partner=None, shard=0)
    return account.values_list("balance", flat=True).first() or 0


def outstanding_of(issuer: Partner) -> int:
    """The coins an issuer has funded that are still unspent: minus its liability shards."""
    shards = CoinAccount.objects.filter(kind=CoinAccount.Kind.LIABILITY, partner=issuer)
    return -(shards.aggregate(total=Sum("balance"))["total"] or 0)


@dataclass(frozen=True)
class LedgerMismatch:
    """The first account whose row disagrees with its entries, or a transaction that does not
    balance: what the verification command reports."""

    what: str
    key: str
    expected: int | str
    found: int | str


# One pass per rule, set-based. The account rule compares the row (balance, version) with its
# entries (sum, count, the last entry's balance_after and version); any difference is reported.
_ACCOUNTS_SQL = """
SELECT a.id, a.balance, a.version,
       COALESCE(e.total, 0), COALESCE(e.legs, 0), COALESCE(e.last_version, 0),
       COALESCE(last.balance_after, 0)
  FROM federation_coinaccount a
  LEFT JOIN (
        SELECT account_id, SUM(amount) AS total, COUNT(*) AS legs,
               MAX(account_version) AS last_version
          FROM federation_coinentry GROUP BY account_id
       ) e ON e.account_id = a.id
  LEFT JOIN federation_coinentry last
         ON last.account_id = a.id AND last.account_version = a.version
 WHERE a.balance <> COALESCE(e.total, 0)
    OR a.version <> COALESCE(e.legs, 0)
    OR a.version <> COALESCE(e.last_version, 0)
    OR (a.version > 0 AND a.balance <> COALESCE(last.balance_after, a.balance + 1))
 ORDER BY a.id
 LIMIT 1
"""

_TRANSACTIONS_SQL = """
SELECT t.id, COALESCE(SUM(e.amount), 0), COUNT(e.id)
  FROM federation_cointransaction t
  LEFT JOIN federation_coinentry e ON e.transaction_id = t.id
 GROUP BY t.id
HAVING COALESCE(SUM(e.amount), 0) <> 0 OR COUNT(e.id) < 2
 LIMIT 1
"""


# Over the whole table, what the partitioned table cannot declare (README, "Partitioning"):
# one entry per account version, and each entry stamped with its transaction's time.
_VERSIONS_SQL = """
SELECT account_id, account_version, COUNT(*) FROM federation_coinentry
 GROUP BY account_id, account_version HAVING COUNT(*) > 1
 ORDER BY account_id, account_version
 LIMIT 1
"""

_POSTED_AT_SQL = """
SELECT e.id, t.posted_at, e.posted_at
  FROM federation_coinentry e JOIN federation_cointransaction t ON t.id = e.transaction_id
 WHERE e.posted_at <> t.posted_at
 LIMIT 1
"""


def ledger_verify() -> LedgerMismatch | None:
    """Check every account (balance = sum of its entries, version = their count, the last entry
    carries both), every account version (one entry each), every entry (its transaction's
    ``posted_at``) and every transaction (entries sum to zero, two or more); return the first
    mismatch, or None when the books hold."""
    return _entries_verify() or _accounts_verify() or _transactions_verify()


def _accounts_verify() -> LedgerMismatch | None:
    with connection.cursor() as cursor:
        cursor.execute(_ACCOUNTS_SQL)
        row = cursor.fetchone()
        if row is not None:
            account_id, balance, version, total, legs, last_version, last_balance = row
            if balance != total:
                return LedgerMismatch("account balance", str(account_id), int(total), balance)
            if version != legs or version != last_version:
                return LedgerMismatch("account version", str(account_id), int(legs), version)
            return LedgerMismatch(
                "last entry balance", str(account_id), int(balance), int(last_balance)
            )
    return None


def _entries_verify() -> LedgerMismatch | None:
    with connection.cursor() as cursor:
        cursor.execute(_VERSIONS_SQL)
        row = cursor.fetchone()
        if row is not None:
            account_id, version, entries = row
            return LedgerMismatch("entry version", f"{account_id}/{version}", 1, int(entries))
        cursor.execute(_POSTED_AT_SQL)
        row = cursor.fetchone()
        if row is not None:
            entry_id, expected, found = row
            return LedgerMismatch(
                "entry posted at", str(entry_id), _instant(expected), _instant(found)
            )
    return None


def _instant(value: Any) -> str:
    # SQLite hands raw SQL's timestamps back as text; PostgreSQL as aware datetimes.
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _transactions_verify() -> LedgerMismatch | None:
    with connection.cursor() as cursor:
        cursor.execute(_TRANSACTIONS_SQL)
        row = cursor.fetchone()
        if row is not None:
            return LedgerMismatch("transaction sum", str(row[0]), 0, int(row[1]))
    return None


def ledger_total() -> int:
    """The sum of every entry in the ledger: zero, always."""
    return CoinEntry.objects.aggregate(total=Sum("amount"))["total"] or 0


@dataclass(frozen=True)
class MonthlyFlow:
    """Coins of one company in one month (Asia/Tokyo): issued as issuer, redeemed at it as
    merchant, expired as issuer."""

    month: date
    partner_id: Any
    issued: int
    redeemed: int
    expired: int


def monthly_flows(since: date) -> list[MonthlyFlow]:
    """Coins issued, redeemed and expired per company per month from ``since``: three grouped
    queries (lots by issue month, redemption entries by posting month, expiry lineage by
    posting month), whatever the ledger's length."""
    zone = timezone.get_default_timezone()

    def month(field: str) -> TruncMonth:
        return TruncMonth(field, output_field=DateField(), tzinfo=zone)

    issued = (
        CoinLot.objects.filter(issued_at__date__gte=since)
        .annotate(month=month("issued_at"))
        .values("month", "issuer_id")
        .annotate(n=Sum("amount"))
        .values_list("month", "issuer_id", "n")
    )
    # The entries' own posted_at, from an instant: PostgreSQL reads only those months.
    redeemed = (
        CoinEntry.objects.filter(
            account__kind=CoinAccount.Kind.REDEMPTION,
            posted_at__gte=datetime.combine(since, time.min, tzinfo=zone),
        )
        .annotate(month=month("posted_at"))
        .values("month", "account__partner_id")
        .annotate(n=Sum("amount"))
        .values_list("month", "account__partner_id", "n")
    )
    expired = (
        CoinLotUse.objects.filter(
            transaction__kind=CoinTransaction.Kind.EXPIRE,
            transaction__posted_at__date__gte=since,
        )
        .annotate(month=month("transaction__posted_at"))
        .values("month", "issuer_id")
        .annotate(n=Sum("coins"))
        .values_list("month", "issuer_id", "n")
    )
    totals: dict[tuple[date, Any], list[int]] = defaultdict(lambda: [0, 0, 0])
    for column, rows in enumerate((issued, redeemed, expired)):
        for when, partner_id, n in rows:
            totals[(when, partner_id)][column] += int(n or 0)
    return [
        MonthlyFlow(when, partner_id, *figures)
        for (when, partner_id), figures in sorted(totals.items())
    ]


@dataclass(frozen=True)
class Balances:
    available: int
    pending: int
    held: int


def balances_of(person: Person) -> Balances:
    """A member's available, pending and held coins: three account rows, one query."""
    rows = dict(
        CoinAccount.objects.filter(
            person=person,
            kind__in=[CoinAccount.Kind.WALLET, CoinAccount.Kind.PENDING, CoinAccount.Kind.HOLD],
        ).values_list("kind", "balance")
    )
    return Balances(
        available=rows.get(CoinAccount.Kind.WALLET, 0),
        pending=rows.get(CoinAccount.Kind.PENDING, 0),
        held=rows.get(CoinAccount.Kind.HOLD, 0),
    )


def balances_within(person: Person, issuers: Collection[uuid.UUID]) -> Balances:
    """A member's available, pending and held coins of ``issuers`` only (the ones a company
    may show, ``federation.coins.links``): from the member's lots with coins left and the
    lots of their open holds, two queries, whatever the history. Agrees with
    ``balances_of`` when ``issuers`` are all the member's issuers."""
    pending = Q(pending_until__isnull=False, released_at=None)
    lots = CoinLot.objects.filter(person=person, remaining__gt=0, issuer_id__in=issuers)
    figures = lots.aggregate(
        available=Sum("remaining", filter=~pending), pending=Sum("remaining", filter=pending)
    )
    open_holds = CoinHold.objects.filter(person=person, state=CoinHold.State.OPEN)
    held = CoinLotUse.objects.filter(
        transaction_id__in=open_holds.values("held_by_id"), issuer_id__in=issuers
    ).aggregate(n=Sum("coins"))["n"]
    return Balances(
        available=int(figures["available"] or 0),
        pending=int(figures["pending"] or 0),
        held=int(held or 0),
    )


def lots_left(person: Person, issuers: Collection[uuid.UUID] | None = None) -> QuerySet[CoinLot]:
    """The member's lots with coins left, oldest first: each with its own amount and expiry
    (of ``issuers`` only, when given)."""
    lots = CoinLot.objects.filter(person=person, remaining__gt=0)
    if issuers is not None:
        lots = lots.filter(issuer_id__in=issuers)
    return lots.select_related("issuer").order_by("issued_at", "id")


def history_of(
    person: Person, *, company: Partner | None = None, linked: Collection[uuid.UUID] = ()
) -> QuerySet[CoinEntry]:
    """Every entry of the member's own accounts (available, pending, held), with why; or, for
    a ``company`` that may see only the ``linked`` companies' coins (``federation.coins.links``),
    the entries of transactions posted by one of them (or by the system) that moved no coin
    of another issuer of this member's, never a release batch (it does not say whose coins)
    nor another company's capture (its hold's coins are not on it)."""
    entries = CoinEntry.objects.filter(account__person=person).select_related(
        "account", "transaction", "transaction__partner"
    )
    if company is None:
        return entries
    foreign = CoinLotUse.objects.filter(
        transaction_id=OuterRef("transaction_id"), lot__person=person
    ).exclude(issuer_id__in=linked)
    return (
        entries.filter(Q(transaction__partner_id__in=linked) | Q(transaction__partner=None))
        .exclude(transaction__kind=CoinTransaction.Kind.RELEASE)
        .exclude(
            Q(transaction__kind=CoinTransaction.Kind.CAPTURE) & ~Q(transaction__partner=company)
        )
        .exclude(Exists(foreign))
    )


@dataclass(frozen=True)
class Liability:
    """What a company's coins are doing: ``issued`` (what it funded, net of coins taken back
    and reversed) = ``unspent`` (in members' lots, pending or held) + ``redeemed`` (spent at
    any company) + ``expired`` (its breakage)."""

    issued: int
    unspent: int
    redeemed: int
    expired: int


def liability_of(issuer: Partner) -> Liability:
    """The issuer's coins, from the ledger and its lots: four aggregate queries."""
    issued = outstanding_of(issuer)
    left = CoinLot.objects.filter(issuer=issuer).aggregate(n=Sum("remaining"))["n"] or 0
    open_holds = CoinHold.objects.filter(state=CoinHold.State.OPEN).values("held_by_id")
    held = (
        CoinLotUse.objects.filter(issuer=issuer, transaction_id__in=open_holds).aggregate(
            n=Sum("coins")
        )["n"]
        or 0
    )
    expired = (
        CoinAccount.objects.filter(kind=CoinAccount.Kind.BREAKAGE, partner=issuer).aggregate(
            n=Sum("balance")
        )["n"]
        or 0
    )
    unspent = int(left + held)
    return Liability(
        issued=issued, unspent=unspent, redeemed=issued - unspent - expired, expired=expired
    )


def members_expiring(company: Partner, *, within: timedelta) -> QuerySet[MemberAccount]:
    """``company``'s own members with coins that expire within ``within``: each with
    ``expiring`` (how many coins) and ``first_expiry`` (the soonest), for reminders. Two
    correlated aggregates per member shown, none over the whole ledger."""
    until = timezone.now() + within
    due = CoinLot.objects.filter(
        person=OuterRef("person"), remaining__gt=0, expires_at__lte=until
    ).exclude(pending_until__isnull=False, released_at=None)
    coins = due.order_by().values("person").annotate(n=Sum("remaining")).values("n")
    first = due.order_by("expires_at").values("expires_at")[:1]
    return (
        MemberAccount.objects.filter(partner=company, person__isnull=False)
        .annotate(expiring=Subquery(coins, output_field=BigIntegerField()))
        .annotate(first_expiry=Subquery(first, output_field=DateTimeField()))
        .filter(expiring__gt=0)
    )
