"""Whole yen from exact ledger values: the largest-remainder method, stated once here and on
every statement (``ROUNDING_RULE``)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

ONE_YEN = Decimal("1")
EXACT = Decimal("0.0001")  # the coin ledger's yen precision

ROUNDING_RULE = {
    "en": "Every amount is valued at the yen per coin its issuer funded the coins at (to "
    "0.0001 yen). For each kind of line, the period's exact total is rounded half to even to "
    "whole yen and split over the pairs of companies by the largest-remainder method: each "
    "pair gets its exact amount rounded down, and the yen still missing go one each to the "
    "pairs with the largest remainders; equal remainders are ordered by a hash of the period "
    "and the pair, so no company is favoured every period. The parts sum exactly to the total; "
    "the sub-yen difference between the exact and the whole-yen total is shown as a rounding "
    "line that nobody pays. Each company pays or receives its one net amount through the host.",
    "ja": "各金額は、発行会社がコインを付与した際のコイン単価(0.0001円単位)で評価します。"
    "明細の種類ごとに、期間の正確な合計を円単位に偶数丸めし、最大剰余法で会社の組に配分します。"
    "各組には正確な金額の円未満を切り捨てた額を割り当て、残りの円は剰余の大きい組から1円ずつ"
    "割り当てます。剰余が等しい場合は期間と組のハッシュで順序を決めるため、特定の会社が毎期"
    "有利になることはありません。配分額の合計は必ず合計額と一致し、正確な合計と円単位の合計の"
    "円未満の差額は、支払の発生しない端数調整明細として表示します。各社はホストを通じて"
    "差引純額のみを支払い、または受け取ります。",
}


def whole_yen(value: Decimal) -> Decimal:
    """``value`` rounded half to even to whole yen."""
    return value.quantize(ONE_YEN, rounding=ROUND_HALF_EVEN)


def split_largest_remainder(
    exact: Sequence[Decimal], *, total: Decimal, salt: str, keys: Sequence[str]
) -> list[Decimal]:
    """Whole-yen parts of ``exact`` summing exactly to ``total`` (whole yen, within one yen
    per part of ``sum(exact)``): every part rounded down, then one more yen to each of the
    parts with the largest remainders, ties ordered by ``sha256(salt:key)``. Raises
    ValueError when ``total`` cannot be reached that way."""
    floors = [value.quantize(ONE_YEN, rounding=ROUND_FLOOR) for value in exact]
    missing = int(total - sum(floors, Decimal(0)))
    if not 0 <= missing <= len(exact):
        raise ValueError(f"{total} is not within one yen per part of {sum(exact, Decimal(0))}")
    order = sorted(
        range(len(exact)),
        key=lambda i: (
            -(exact[i] - floors[i]),
            hashlib.sha256(f"{salt}:{keys[i]}".encode()).hexdigest(),
        ),
    )
    for i in order[:missing]:
        floors[i] += ONE_YEN
    return floors
