"""A period's lines as CSV, for a company (its statement) or for the host (every line). UTF-8
with a byte-order mark; amounts are written as numbers (a leading minus is no formula), every
text cell is guarded against spreadsheet formulas like the console's exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse

from federation.settlement.models import SettlementLine
from partners.admin.export import BOM, cell

HEADER = [
    "number",
    "kind",
    "debtor",
    "creditor",
    "direction",
    "coins",
    "exact_yen",
    "amount_yen",
    "adjusts",
    "note",
]
NUMBERS = {"number", "coins", "exact_yen", "amount_yen", "adjusts"}


def line_row(line: SettlementLine, partner_id: Any = None) -> dict[str, Any]:
    """One numbered line (``statements.ordered_lines``) as ``partner_id`` reads it: whether it
    pays, receives or only shows it (memo); the host's view (no partner) says ``owes``."""
    direction = "owes"
    if partner_id is not None:
        direction = "receive" if line.creditor_id == partner_id else "pay"
    return {
        "id": line.pk,
        "number": line.number,  # type: ignore[attr-defined]
        "kind": line.kind,
        "debtor": line.debtor.slug if line.debtor else None,
        "creditor": line.creditor.slug if line.creditor else None,
        "direction": "memo" if line.is_memo else direction,
        "coins": line.coins,
        "exact_yen": str(line.exact_yen),
        "amount_yen": str(line.amount_yen),
        "adjusts": line.adjusts_id,
        "note": line.note,
    }


def csv_response(
    lines: Iterable[SettlementLine],
    *,
    filename: str,
    partner_id: Any = None,
    footer: Iterable[list[str]] = (),
) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for line in lines:
        row = line_row(line, partner_id)
        writer.writerow(
            [
                "" if row[key] is None else str(row[key]) if key in NUMBERS else cell(row[key])
                for key in HEADER
            ]
        )
    footer = list(footer)
    if footer:
        writer.writerow([])
        writer.writerows(footer)
    response = HttpResponse(BOM + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store, private"
    return response
