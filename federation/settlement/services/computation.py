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

from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum

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
    lineage = _lineage(period)
    exact = _redemptions(period, lineage) + _breakage(period, lineage) + _shortfalls(period)
    rounded: list[Amount] = []
    for kind in Kind.values:
        group = sorted((a for a in exact if a.kind == kind), key=lambda a: a.key)
        if group:
            rounded += _rounded(period, kind, group)
    return rounded


def alliance_of(host_id: uuid.UUID) -> frozenset[uuid.UUID]:
    """The host and the companies of its alliance (companies, not entries: a small set)."""
    return frozenset({host_id, *alliance_members(host_id).values_list("partner_id", flat=True)})


def _lineage(period: SettlementPeriod) -> list[dict[str, Any]]:
    """The period's lineage in one grouped scan: coins and yen per issuer, company and
    transaction kind (spending and expiry), at most companies squared times four rows. The
    alliance is kept afterwards, in Python, on those rows: filtering it in SQL made the
    planner misjudge the join (it spilled to disk) for no fewer rows read."""
    rows = (
        CoinLotUse.objects.filter(
            transaction__posted_at__gte=period.starts_at,
            transaction__posted_at__lt=period.ends_at,
            transaction__kind__in=[Tx.REDEEM, Tx.HOLD, Tx.VOID, Tx.EXPIRE],
        )
        .values("issuer_id", "transaction__partner_id", "transaction__kind")
        .annotate(coins_sum=Sum("coins"), yen_sum=Sum("yen_value"))
        .order_by()
    )
    return [dict(row) for row in rows]


def _redemptions(period: SettlementPeriod, lineage: list[dict[str, Any]]) -> list[Amount]:
    rows = _spent_rows(period, lineage)
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


def _spent_rows(period: SettlementPeriod, lineage: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Coins and yen per issuer and company spent at, both in the alliance and not the same
    company: spending (redemptions, holds, voids) from the grouped scan, and reversals of
    redemptions, each with the closed earlier period its redemption belongs to (``late``),
    if any. Reversals are few: their query starts from the index on ``reverses`` and looks
    that period up row by row, instead of scanning the lineage again."""
    alliance = alliance_of(period.host_id)
    spending = {Tx.REDEEM, Tx.HOLD, Tx.VOID}
    plain = [{**row, "late": None} for row in lineage if row["transaction__kind"] in spending]
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
        CoinLotUse.objects.filter(
            transaction__reverses__isnull=False,  # lets PostgreSQL start from that index
            transaction__kind=Tx.REVERSAL,
            transaction__reverses__kind=Tx.REDEEM,
            transaction__posted_at__gte=period.starts_at,
            transaction__posted_at__lt=period.ends_at,
        )
        .annotate(late=Subquery(earlier))
        .values("issuer_id", "transaction__partner_id", "late")
        .annotate(coins_sum=Sum("coins"), yen_sum=Sum("yen_value"))
        .order_by()
    )
    return [
        row
        for row in plain + [dict(row) for row in reversals]
        if row["issuer_id"] in alliance
        and row["transaction__partner_id"] in alliance
        and row["issuer_id"] != row["transaction__partner_id"]
    ]


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


def _breakage(period: SettlementPeriod, lineage: list[dict[str, Any]]) -> list[Amount]:
    """Expired coins per issuer of the alliance, from the grouped scan."""
    alliance = alliance_of(period.host_id)
    totals: dict[uuid.UUID, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for row in lineage:
        if row["transaction__kind"] == Tx.EXPIRE and row["issuer_id"] in alliance:
            totals[row["issuer_id"]][0] += row["coins_sum"]
            totals[row["issuer_id"]][1] += _exact(row["yen_sum"])
    return [
        Amount(Kind.BREAKAGE, None, issuer, int(coins), yen)
        for issuer, (coins, yen) in totals.items()
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
