"""Posting to the coin ledger: the one function that changes a balance.

``post`` takes legs (an account and a signed whole number of coins) that sum to zero, locks
the touched accounts in ascending id order (every posting locks in the same order, so two
postings never wait on each other in a ring: no deadlock), checks that no member account would
go below zero with the balances it holds locked, then moves each balance and version and
appends one entry per account carrying the balance after it and that version. All of it runs
in the caller's transaction; PostgreSQL re-checks at commit that the entries sum to zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, Value, When

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


def company_account(kind: CoinAccount.Kind, partner: Partner, person: Person) -> CoinAccount:
    """A company's account of that kind (outstanding liability, redemptions, breakage) for this
    member's coins: one of ``LIABILITY_SHARDS``, chosen by the person, so a popular company's
    postings for different members lock different rows, and one member's always the same."""
    return account_for(kind, partner=partner, shard=person.pk.int % LIABILITY_SHARDS)


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
        locked = list(
            CoinAccount.objects.select_for_update()
            .filter(pk__in=moved)
            .order_by("pk")
            .values_list("pk", "kind", "balance", "version")
        )
        after: dict[int, tuple[int, int]] = {}
        for account_id, kind_code, balance, version in locked:
            balance_after = balance + moved[account_id]
            if balance_after < 0 and kind_code in CoinAccount.NEVER_NEGATIVE:
                raise ApplicationError(
                    CoinErrorCode.INSUFFICIENT_COINS,
                    extra={"available": balance, "requested": -moved[account_id]},
                )
            after[account_id] = (balance_after, version + 1)
        _move(after)
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
            )
            for account_id, (balance_after, version) in after.items()
        )
    return posted


def _move(after: dict[int, tuple[int, int]]) -> None:
    """Set every locked account's balance and version in one UPDATE."""
    CoinAccount.objects.filter(pk__in=after).update(
        balance=Case(*(When(pk=pk, then=Value(b)) for pk, (b, _v) in after.items())),
        version=Case(*(When(pk=pk, then=Value(v)) for pk, (_b, v) in after.items())),
    )


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
