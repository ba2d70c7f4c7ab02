"""The picture of who owes whom: a heat map drawn on the server as SVG, one row per company
that owes, one column per company owed, each cell as dark as its share of the largest amount,
with the figure in it and in its tooltip. The same figures are the matrix table beside it."""

from __future__ import annotations

from decimal import Decimal

from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from federation.settlement.selectors import Matrix
from partners.charts.base import coordinate, document, empty_drawing, joined, shortened, text

CELL, LABEL = 64.0, 96.0
HUE = "0, 114, 178"  # the charts' first colour (Okabe and Ito's blue), by opacity


def heat_map(matrix: Matrix, *, title: str) -> SafeString:
    if not matrix.cells:
        return empty_drawing(title=title)
    companies = matrix.companies
    largest = matrix.largest or Decimal(1)
    parts = [text(LABEL, 14, _("owed to →"), extra="font-style='italic'")]
    for col, creditor in enumerate(companies):
        x = LABEL + col * CELL + CELL / 2
        parts.append(text(x, 32, shortened(creditor.slug, CELL - 4), anchor="middle"))
    for row, debtor in enumerate(companies):
        y = 40 + row * CELL
        parts.append(
            text(LABEL - 6, y + CELL / 2 + 4, shortened(debtor.slug, LABEL - 8), anchor="end")
        )
        for col, creditor in enumerate(companies):
            amount = matrix.cells.get((debtor.pk, creditor.pk))
            parts.append(_cell(LABEL + col * CELL, y, amount, largest, debtor.slug, creditor.slug))
    width = LABEL + CELL * len(companies) + 8
    height = 48 + CELL * len(companies)
    return document(title=title, height=height, width=width, body=joined(parts))


def _cell(
    x: float, y: float, amount: Decimal | None, largest: Decimal, debtor: str, creditor: str
) -> SafeString:
    if amount is None:
        return format_html(
            "<rect x='{}' y='{}' width='{}' height='{}' fill='none' stroke='#d9d9d9'/>",
            coordinate(x),
            coordinate(y),
            coordinate(CELL - 2),
            coordinate(CELL - 2),
        )
    share = min(Decimal(1), Decimal("0.15") + Decimal("0.85") * abs(amount) / largest)
    figure = number_format(amount, force_grouping=True)
    # White on the darker half of the scale, the page's text colour on the lighter half.
    ink = "font-size='11' style='fill: #fff'" if share > Decimal("0.55") else "font-size='11'"
    label = _("%(debtor)s owes %(creditor)s ¥%(amount)s") % {
        "debtor": debtor,
        "creditor": creditor,
        "amount": figure,
    }
    return format_html(
        "<g><title>{}</title><rect x='{}' y='{}' width='{}' height='{}' "
        "fill='rgba({}, {})'/>{}</g>",
        label,
        coordinate(x),
        coordinate(y),
        coordinate(CELL - 2),
        coordinate(CELL - 2),
        HUE,
        f"{share:.2f}",
        text(x + CELL / 2 - 1, y + CELL / 2 + 4, figure, anchor="middle", extra=ink),
    )
