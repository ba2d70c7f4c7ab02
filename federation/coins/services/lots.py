"""Lots: taking coins out of a member's spendable lots, oldest first, and putting them back.

Both run inside a posting that has already locked the member's wallet (``ledger.post``), so
all the lot changes of one member are serialised by that lock; each is one set-based
statement, whatever the number of lots.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Case, F, Value, When

from federation.coins.errors import CoinErrorCode
from federation.coins.models import CoinLot, CoinLotUse, CoinTransaction
from partners.errors import ApplicationError
from partners.models import Person

# Spendable: coins left, released if they were pending, not past their expiry. Oldest first
# (issue time, then id); the window sums the coins of the lots before each one, and every lot
# whose predecessors hold less than the amount gives what is still missing, up to all it has.
# One SELECT and one UPDATE, whatever the number of lots.
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
       AND (expires_at IS NULL OR expires_at > %s)
)
SELECT id, issuer_id, yen_per_coin,
       CASE WHEN remaining < %s - before THEN remaining ELSE %s - before END AS take
  FROM ordered WHERE before < %s ORDER BY id
"""


def lots_take(
    person: Person, coins: int, posted: CoinTransaction, *, now: datetime
) -> list[CoinLotUse]:
    """Take ``coins`` from ``person``'s spendable lots, oldest first, and record per lot what
    ``posted`` took. Refuses with ``insufficient_coins`` (and the caller's transaction rolls
    back) when the spendable lots hold fewer, e.g. because some expired and the expiry run has
    not yet taken them out of the wallet."""
    pk = person.pk.hex if connection.vendor == "sqlite" else person.pk
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_SQL, [pk, at, coins, coins, coins])
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
