"""Posting to the coin ledger: the one function that changes a balance.

``post`` takes legs (an account and a signed whole number of coins) that sum to zero, locks
the touched accounts in ascending id order (every posting locks in the same order, so two
postings never wait on each other in a ring: no deadlock) and moves each balance and version
in the same statement, which the database refuses when a member account would go below zero;
then it appends one entry per account carrying the balance after it and that version. All of it runs
in the caller's transaction; PostgreSQL re-checks at commit that the entries sum to zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction

from federation.coins.errors import CoinErrorCode
from federation.coins.models import LIABILITY_SHARDS, CoinAccount, CoinEntry, CoinTransaction
from partners.errors import ApplicationError
from partners.models import Partner, Person

# A posting names its coins as a signed 64-bit integer; anything larger is refused before it
# reaches a BIGINT column.
MAX_COINS = 2**62


@dataclass(frozen=True)
class Leg:
    account: CoinAccount
    amount: int


def account_for(
    kind: CoinAccount.Kind,
    *,
    person: Person | None = None,
    partner: Partner | None = None,
    shard: int = 0,
) -> CoinAccount:
    """The account of that kind and owner, opened on first use. Safe under concurrency: two
    first uses racing open one account (the unique constraint decides, the loser reads it)."""
    lookup: dict[str, Any] = {"kind": kind, "person": person, "partner": partner, "shard": shard}
    account = CoinAccount.objects.filter(**lookup).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return CoinAccount.objects.create(**lookup)
    except IntegrityError:
        return CoinAccount.objects.get(**lookup)


# An account's owner as the batches name it: (person id, partner id, shard).
Owner = tuple[Any, Any, int]


def accounts_of(kind: CoinAccount.Kind, owners: Iterable[Owner]) -> dict[Owner, CoinAccount]:
    """The accounts of ``kind`` for many owners at once, opened where missing: for the
    batches (release, expiry), whatever their size, a read, one insert of the missing ones
    (a racing opener's row wins, ``ignore_conflicts``) and a read of those."""
    wanted = set(owners)

    def found(keys: set[Owner]) -> dict[Owner, CoinAccount]:
        rows = CoinAccount.objects.filter(
            kind=kind,
            person_id__in={person for person, _, _ in keys if person is not None},
        ) | CoinAccount.objects.filter(
            kind=kind,
            partner_id__in={partner for _, partner, _ in keys if partner is not None},
            shard__in={shard for _, _, shard in keys},
        )
        by_owner = {(a.person_id, a.partner_id, a.shard): a for a in rows}
        return {key: by_owner[key] for key in keys if key in by_owner}

    accounts = found(wanted)
    missing = wanted - set(accounts)
    if missing:
        CoinAccount.objects.bulk_create(
            [CoinAccount(kind=kind, person_id=p, partner_id=c, shard=s) for p, c, s in missing],
            ignore_conflicts=True,
        )
        accounts |= found(missing)
    return accounts


def shard_of(person_id: Any) -> int:
    """The shard of a company's accounts that holds this member's coins."""
    return int(person_id.int % LIABILITY_SHARDS)


def company_account(kind: CoinAccount.Kind, partner: Partner, person: Person) -> CoinAccount:
    """A company's account of that kind (outstanding liability, redemptions, breakage) for this
    member's coins: one of ``LIABILITY_SHARDS``, chosen by the person, so a popular company's
    postings for different members lock different rows, and one member's always the same."""
    return account_for(kind, partner=partner, shard=shard_of(person.pk))


def liability_account(issuer: Partner, person: Person) -> CoinAccount:
    return company_account(CoinAccount.Kind.LIABILITY, issuer, person)


def member_account(person: Person, kind: CoinAccount.Kind = CoinAccount.Kind.WALLET) -> CoinAccount:
    return account_for(kind, person=person)


def _validated(legs: Iterable[Leg]) -> dict[int, int]:
    """The legs summed per account id, refused unless whole, non-zero and balanced."""
    amounts: dict[int, int] = defaultdict(int)
    for leg in legs:
        if type(leg.amount) is not int or not 0 < abs(leg.amount) < MAX_COINS:
            raise ApplicationError(
                CoinErrorCode.UNBALANCED_TRANSACTION,
                fields={"amount": ["A whole, non-zero number of coins."]},
            )
        amounts[leg.account.pk] += leg.amount
    if sum(amounts.values()) != 0:
        raise ApplicationError(CoinErrorCode.UNBALANCED_TRANSACTION)
    moved = {account_id: amount for account_id, amount in amounts.items() if amount}
    if len(moved) < 2:
        raise ApplicationError(CoinErrorCode.UNBALANCED_TRANSACTION)
    return moved


def post(
    kind: CoinTransaction.Kind,
    legs: Iterable[Leg],
    *,
    partner: Partner | None = None,
    reason: Mapping[str, Any] | None = None,
    reverses: CoinTransaction | None = None,
    reference: str = "",
) -> CoinTransaction:
    """Post one balanced transaction, or refuse it whole (``insufficient_coins`` when a member
    account would go below zero)."""
    moved = _validated(legs)
    with transaction.atomic():
        after = _move(moved)
        posted = CoinTransaction.objects.create(
            kind=kind,
            partner=partner,
            reason=dict(reason or {}),
            reverses=reverses,
            reference=reference,
        )
        CoinEntry.objects.bulk_create(
            CoinEntry(
                transaction=posted,
                account_id=account_id,
                amount=moved[account_id],
                balance_after=balance_after,
                account_version=version,
                posted_at=posted.posted_at,
            )
            for account_id, (balance_after, version) in after.items()
        )
    return posted


# Lock the accounts in id order (a materialised CTE: every posting locks in the same order,
# so postings never wait on each other in a ring), then move each balance and version in the
# same statement, which leaves out a member account that would go below zero (its CHECK
# constraint is the backstop): the check and the write are one statement, on the locked rows.
_MOVE_SQL = {
    "postgresql": """
WITH locked AS MATERIALIZED (
    SELECT id FROM federation_coinaccount WHERE id IN ({ids}) ORDER BY id FOR UPDATE
), moved (id, delta) AS (VALUES {values})
UPDATE federation_coinaccount AS account
   SET balance = account.balance + moved.delta, version = account.version + 1
  FROM moved JOIN locked ON locked.id = moved.id
 WHERE account.id = moved.id
   AND (account.kind NOT IN ('wallet', 'hold', 'pending') OR account.balance + moved.delta >= 0)
RETURNING account.id, account.balance, account.version
""",
    "sqlite": """
WITH moved (id, delta) AS (VALUES {values})
UPDATE federation_coinaccount
   SET balance = federation_coinaccount.balance + moved.delta,
       version = federation_coinaccount.version + 1
  FROM moved WHERE federation_coinaccount.id = moved.id
   AND (federation_coinaccount.kind NOT IN ('wallet', 'hold', 'pending')
        OR federation_coinaccount.balance + moved.delta >= 0)
RETURNING id, balance, version
""",
}


def _move(moved: dict[int, int]) -> dict[int, tuple[int, int]]:
    """Move every account by its amount; return each one's balance and version after."""
    ids = sorted(moved)
    sql = _MOVE_SQL["postgresql" if connection.vendor == "postgresql" else "sqlite"].format(
        ids=", ".join(["%s"] * len(ids)),
        values=", ".join(["(%s, %s)"] * len(ids)),
    )
    params: list[int] = [*ids] if connection.vendor == "postgresql" else []
    for account_id in ids:
        params += [account_id, moved[account_id]]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if len(rows) < len(ids):  # a member account left out: it would have gone below zero
        raise _insufficient(moved)
    return {account_id: (balance, version) for account_id, balance, version in rows}


def _insufficient(moved: dict[int, int]) -> ApplicationError:
    """The refusal of a posting that would take a member account below zero, naming what the
    first such account holds."""
    accounts = CoinAccount.objects.filter(
        pk__in=[pk for pk, amount in moved.items() if amount < 0],
        kind__in=CoinAccount.NEVER_NEGATIVE,
    ).order_by("pk")
    for account_id, balance in accounts.values_list("pk", "balance"):
        if balance + moved[account_id] < 0:
            return ApplicationError(
                CoinErrorCode.INSUFFICIENT_COINS,
                extra={"available": balance, "requested": -moved[account_id]},
            )
    return ApplicationError(CoinErrorCode.INSUFFICIENT_COINS)


def reverse(
    original: CoinTransaction,
    *,
    partner: Partner | None = None,
    reason: Mapping[str, Any] | None = None,
) -> CoinTransaction:
    """Post the mirror of ``original`` (every entry negated), once. A reversal cannot itself be
    reversed, and a transaction already reversed answers ``already_reversed``; the original row
    is locked first, so two reversals racing each other post one."""
    with transaction.atomic():
        locked = CoinTransaction.objects.select_for_update().get(pk=original.pk)
        if locked.kind == CoinTransaction.Kind.REVERSAL or locked.reversals.exists():
            raise ApplicationError(CoinErrorCode.ALREADY_REVERSED)
        entries = locked.entries.select_related("account")
        return post(
            CoinTransaction.Kind.REVERSAL,
            [Leg(entry.account, -entry.amount) for entry in entries],
            partner=partner,
            reason={**(reason or {}), "reverses": str(original.pk)},
            reverses=locked,
        )
