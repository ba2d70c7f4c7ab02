"""Lots: taking coins out of a member's spendable lots, oldest first, and putting them back.

Both run inside a posting that has already locked the member's wallet (``ledger.post``), so
all the lot changes of one member are serialised by that lock; each is one set-based
statement, whatever the number of lots.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Case, F, Q, Sum, Value, When

from federation.coins.errors import CoinErrorCode
from federation.coins.models import CoinLot, CoinLotUse, CoinTransaction
from partners.errors import ApplicationError
from partners.models import Person

# Spendable: coins left, released if they were pending, not past their expiry. Oldest first
# (issue time, then id); the window sums the coins of the lots before each one, and every lot
# whose predecessors hold less than the amount gives what is still missing, up to all it has.
# One SELECT and one UPDATE, whatever the number of lots. A spender restricted to some issuers
# (the ones linked with the company where the coins are spent, ``federation.coins.links``)
# takes only from their lots, FIFO among them.
# Raw SQL hands SQLite's decimals back as floats: read them back at the column's precision.
YEN_PLACES = Decimal("0.0001")

_TAKE_SQL = """
WITH ordered AS (
    SELECT id, issuer_id, yen_per_coin, remaining,
           CAST(COALESCE(SUM(remaining) OVER (
               ORDER BY issued_at, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ), 0) AS BIGINT) AS before
      FROM federation_coinlot
     WHERE person_id = %s AND remaining > 0
       AND (pending_until IS NULL OR released_at IS NOT NULL)
       AND (expires_at IS NULL OR expires_at > %s){issuers}
)
SELECT id, issuer_id, yen_per_coin,
       CASE WHEN remaining < %s - before THEN remaining ELSE %s - before END AS take
  FROM ordered WHERE before < %s ORDER BY id
"""


def lots_take(
    person: Person,
    coins: int,
    posted: CoinTransaction,
    *,
    now: datetime,
    issuers: Collection[uuid.UUID] | None = None,
) -> list[CoinLotUse]:
    """Take ``coins`` from ``person``'s spendable lots, oldest first (only lots of ``issuers``
    when given), and record per lot what ``posted`` took. Refuses with ``insufficient_coins``
    (and the caller's transaction rolls back) when those lots hold fewer, e.g. because some
    expired and the expiry run has not yet taken them out of the wallet, or because the
    wallet's other coins are of issuers not given; ``available`` is then what those lots
    hold."""
    pk = _db(person.pk)
    at = connection.ops.adapt_datetimefield_value(now)
    only, among = _among(issuers)
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_SQL.format(issuers=only), [pk, at, *among, coins, coins, coins])
        rows = [(lot, issuer, yen, int(take)) for lot, issuer, yen, take in cursor.fetchall()]
    if rows:
        CoinLot.objects.filter(pk__in=[row[0] for row in rows]).update(
            remaining=F("remaining") - Case(*(When(pk=row[0], then=Value(row[3])) for row in rows))
        )
    if sum(row[3] for row in rows) != coins:
        raise ApplicationError(
            CoinErrorCode.INSUFFICIENT_COINS,
            extra={"available": sum(row[3] for row in rows), "requested": coins},
        )
    return CoinLotUse.objects.bulk_create(
        CoinLotUse(
            transaction=posted,
            lot_id=lot_id,
            issuer_id=issuer_id,
            coins=take,
            yen_value=take * Decimal(str(yen_per_coin)).quantize(YEN_PLACES),
        )
        for lot_id, issuer_id, yen_per_coin, take in rows
    )


def lots_spendable(
    person: Person, *, now: datetime, issuers: Collection[uuid.UUID] | None = None
) -> int:
    """The coins ``lots_take`` could take from ``person``'s lots now (of ``issuers`` only,
    when given): what a refusal says is available."""
    lots = (
        CoinLot.objects.filter(person=person, remaining__gt=0)
        .exclude(pending_until__isnull=False, released_at=None)
        .filter(Q(expires_at=None) | Q(expires_at__gt=now))
    )
    if issuers is not None:
        lots = lots.filter(issuer_id__in=issuers)
    return int(lots.aggregate(n=Sum("remaining"))["n"] or 0)


def _db(pk: uuid.UUID) -> str | uuid.UUID:
    return pk.hex if connection.vendor == "sqlite" else pk


def _among(issuers: Collection[uuid.UUID] | None) -> tuple[str, list[str | uuid.UUID]]:
    if issuers is None:
        return "", []
    if not issuers:
        return "\n       AND FALSE", []
    marks = ", ".join(["%s"] * len(issuers))
    return f"\n       AND issuer_id IN ({marks})", [_db(pk) for pk in sorted(issuers)]


def lots_return(
    uses: Iterable[CoinLotUse], coins: int, posted: CoinTransaction
) -> list[CoinLotUse]:
    """Put ``coins`` back into the lots ``uses`` took them from, newest lot first (so the
    oldest coins stay spent), recording the return as negative uses of ``posted``."""
    returned: list[CoinLotUse] = []
    left = coins
    for use in sorted(uses, key=lambda u: (u.lot.issued_at, u.lot_id), reverse=True):
        if left == 0:
            break
        back = min(use.coins, left)
        returned.append(
            CoinLotUse(
                transaction=posted,
                lot_id=use.lot_id,
                issuer_id=use.issuer_id,
                coins=-back,
                yen_value=-(Decimal(back) * use.lot.yen_per_coin),
            )
        )
        left -= back
    if returned:  # one UPDATE for every lot given back to
        CoinLot.objects.filter(pk__in=[use.lot_id for use in returned]).update(
            remaining=F("remaining")
            + Case(*(When(pk=use.lot_id, then=Value(-use.coins)) for use in returned))
        )
    return CoinLotUse.objects.bulk_create(returned)
