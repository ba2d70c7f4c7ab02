"""The period's lines, read from the coin ledger with a few GROUP BY queries (companies
squared rows at most, whatever the number of entries), then rounded to whole yen.

What the ledger says, for entries posted within the period's instants:
- redemption: coins of issuer A that left their lots towards company B (a redemption, a hold
  taken at B's checkout less what its void gave back, a reversal of a redemption of the same
  period): A owes B their yen value at A's funding rate. A reversal of a redemption of an
  earlier, closed period becomes an adjustment naming that period's line; a hold that spans
  two periods counts in the first and is given back in the next;
- breakage: coins of A that expired (a memo on A's statement: it stays with A);
- clawback shortfall: coins A issued for a purchase refunded after they were spent (a memo on
  A's statement: A bears it).
A company's own coins spent at its own shop owe nobody anything and are left out.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum

from federation.agreements.models import AgreementParty
from federation.coins.models import CoinClawback, CoinLotUse, CoinTransaction
from federation.settlement.models import SettlementLine, SettlementPeriod
from federation.settlement.rounding import EXACT, split_largest_remainder, whole_yen

Tx = CoinTransaction.Kind
Kind = SettlementLine.Kind


@dataclass(frozen=True)
class Amount:
    """One computed line before it is saved: ``amount_yen`` is whole yen, ``exact_yen`` what
    the ledger says."""

    kind: str
    debtor_id: uuid.UUID | None
    creditor_id: uuid.UUID | None
    coins: int
    exact_yen: Decimal
    amount_yen: Decimal = Decimal(0)
    adjusts_id: int | None = None
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.debtor_id}:{self.creditor_id}:{self.adjusts_id}"


def alliance_members(host_id: uuid.UUID) -> QuerySet[AgreementParty, Any]:
    """The companies of the host's alliance besides the host: every party of its agreements."""
    return AgreementParty.objects.filter(version__agreement__host_id=host_id).values("partner_id")


def period_amounts(period: SettlementPeriod) -> list[Amount]:
    """The computed lines of ``period``, rounded, in a fixed order. Reads only the ledger and
    the closed periods' lines, so computing the same period twice gives the same lines."""
    exact = _redemptions(period) + _breakage(period) + _shortfalls(period)
    rounded: list[Amount] = []
    for kind in Kind.values:
        group = sorted((a for a in exact if a.kind == kind), key=lambda a: a.key)
        if group:
            rounded += _rounded(period, kind, group)
    return rounded


def _uses(period: SettlementPeriod) -> QuerySet[CoinLotUse]:
    members = alliance_members(period.host_id)
    return CoinLotUse.objects.filter(
        Q(issuer_id=period.host_id) | Q(issuer_id__in=members),
        transaction__posted_at__gte=period.starts_at,
        transaction__posted_at__lt=period.ends_at,
    )


def _redemptions(period: SettlementPeriod) -> list[Amount]:
    rows = _spent_rows(period)
    late = {(r["late"], r["issuer_id"], r["transaction__partner_id"]) for r in rows if r["late"]}
    originals = _original_lines(late)
    amounts: dict[tuple[Any, Any, int | None], list[Decimal]] = defaultdict(
        lambda: [Decimal(0), Decimal(0)]
    )
    for row in rows:
        pair = (row["issuer_id"], row["transaction__partner_id"])
        adjusts = originals.get((row["late"], *pair)) if row["late"] else None
        totals = amounts[(*pair, adjusts)]
        totals[0] += row["coins_sum"]
        totals[1] += _exact(row["yen_sum"])
    return [
        Amount(
            Kind.ADJUSTMENT if adjusts else Kind.REDEMPTION,
            debtor,
            creditor,
            int(coins),
            yen,
            adjusts_id=adjusts,
            note="late reversal of a redemption" if adjusts else "",
        )
        for (debtor, creditor, adjusts), (coins, yen) in amounts.items()
        if coins or yen
    ]


def _spent_rows(period: SettlementPeriod) -> list[dict[str, Any]]:
    """Coins and yen per issuer and company spent at, in two GROUP BY queries: spending
    (redemptions, holds, voids), and reversals of redemptions, each with the closed earlier
    period its redemption belongs to (``late``), if any. Reversals are few, so only their
    query looks that period up row by row."""
    members = alliance_members(period.host_id)
    spent = (
        _uses(period)
        .filter(Q(transaction__partner_id=period.host_id) | Q(transaction__partner_id__in=members))
        .exclude(issuer_id=F("transaction__partner_id"))
    )
    sums = {"coins_sum": Sum("coins"), "yen_sum": Sum("yen_value")}
    plain = (
        spent.filter(transaction__kind__in=[Tx.REDEEM, Tx.HOLD, Tx.VOID])
        .values("issuer_id", "transaction__partner_id")
        .annotate(**sums)
        .order_by()
    )
    earlier = (
        SettlementPeriod.objects.filter(
            host_id=period.host_id,
            state__in=SettlementPeriod.CLOSED,
            starts_at__lte=OuterRef("transaction__reverses__posted_at"),
            ends_at__gt=OuterRef("transaction__reverses__posted_at"),
        )
        .exclude(pk=period.pk)
        .values("pk")[:1]
    )
    reversals = (
        spent.filter(transaction__kind=Tx.REVERSAL, transaction__reverses__kind=Tx.REDEEM)
        .annotate(late=Subquery(earlier))
        .values("issuer_id", "transaction__partner_id", "late")
        .annotate(**sums)
        .order_by()
    )
    return [{**row, "late": None} for row in plain] + [dict(row) for row in reversals]


def _original_lines(late: set[tuple[Any, Any, Any]]) -> dict[tuple[Any, ...], int]:
    """The closed periods' redemption lines that late reversals adjust, in one query."""
    if not late:
        return {}
    wanted = Q()
    for period_id, debtor, creditor in late:
        wanted |= Q(period_id=period_id, debtor_id=debtor, creditor_id=creditor)
    found = SettlementLine.objects.filter(wanted, kind=Kind.REDEMPTION).values_list(
        "period_id", "debtor_id", "creditor_id", "pk"
    )
    return {(p, d, c): pk for p, d, c, pk in found}


def _breakage(period: SettlementPeriod) -> list[Amount]:
    rows = (
        _uses(period)
        .filter(transaction__kind=Tx.EXPIRE)
        .values("issuer_id")
        .annotate(coins_sum=Sum("coins"), yen_sum=Sum("yen_value"))
        .order_by()
    )
    return [
        Amount(Kind.BREAKAGE, None, r["issuer_id"], int(r["coins_sum"]), _exact(r["yen_sum"]))
        for r in rows
    ]


def _shortfalls(period: SettlementPeriod) -> list[Amount]:
    members = alliance_members(period.host_id)
    rows = (
        CoinClawback.objects.filter(
            Q(issuer_id=period.host_id) | Q(issuer_id__in=members),
            shortfall__gt=0,
            recorded_at__gte=period.starts_at,
            recorded_at__lt=period.ends_at,
        )
        .values("issuer_id")
        .annotate(coins_sum=Sum("shortfall"), yen_sum=Sum("shortfall_yen"))
        .order_by()
    )
    return [
        Amount(
            Kind.CLAWBACK_SHORTFALL,
            r["issuer_id"],
            None,
            int(r["coins_sum"]),
            _exact(r["yen_sum"]),
        )
        for r in rows
    ]


def _rounded(period: SettlementPeriod, kind: str, group: list[Amount]) -> list[Amount]:
    exact_total = sum((a.exact_yen for a in group), Decimal(0))
    total = whole_yen(exact_total)
    parts = split_largest_remainder(
        [a.exact_yen for a in group], total=total, salt=str(period.pk), keys=[a.key for a in group]
    )
    rounded = [
        Amount(a.kind, a.debtor_id, a.creditor_id, a.coins, a.exact_yen, part, a.adjusts_id, a.note)
        for a, part in zip(group, parts, strict=True)
    ]
    if exact_total != total:  # the sub-yen residue, shown and paid by nobody
        rounded.append(
            Amount(
                Kind.ROUNDING,
                None,
                period.host_id,
                0,
                total - exact_total,
                note=f"rounding of {kind}",
            )
        )
    return rounded


def _exact(value: object) -> Decimal:
    # SQLite sums decimals as floats: read them back at the ledger's precision.
    return Decimal(str(value or 0)).quantize(EXACT)
