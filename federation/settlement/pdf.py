"""A company's statement as PDF (reportlab): what the canonical JSON says, laid out for a
finance team, labelled in Japanese and English. Drawn from the stored document itself, so the
PDF shows exactly the figures that were hashed and signed.

Japanese needs a font with its glyphs: the TrueType font at ``SANPO_PDF_FONT`` (IPA Gothic
from Debian's fonts-ipafont-gothic by default), embedded as a subset; where that file is
missing, reportlab's built-in CID font HeiseiKakuGo-W5, which the PDF names without embedding
(the reader supplies the glyphs). The same statement always gives the same bytes (reportlab's
invariant mode: no creation date, a fixed document id).
"""

from __future__ import annotations

import io
import json
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from federation.settlement.models import SettlementLine, SettlementStatement

TOKYO = ZoneInfo("Asia/Tokyo")
EMBEDDED = "SanpoGothic"
FALLBACK = "HeiseiKakuGo-W5"
KINDS = dict(SettlementLine.Kind.choices)
DIRECTIONS = {
    "pay": _("to pay"),
    "receive": _("to receive"),
    "memo": _("memo (not paid)"),
}
SETTLES = {
    "pay": _("%(company)s pays %(amount)s yen to the host %(host)s."),
    "receive": _("The host %(host)s pays %(amount)s yen to %(company)s."),
    "nothing": _("Nothing to pay or receive."),
}
COLUMNS = [
    ("number", _("No.")),
    ("kind", _("kind")),
    ("debtor", _("owed by")),
    ("creditor", _("owed to")),
    ("direction", _("direction")),
    ("coins", _("coins")),
    ("exact_yen", _("exact value (yen)")),
    ("amount_yen", _("amount (yen)")),
    ("adjusts", _("adjusts line")),
    ("note", _("note")),
]
NUMERIC = {"number", "coins", "exact_yen", "amount_yen"}


@lru_cache(maxsize=4)
def font_for(path: str) -> str:
    """The registered font name to draw with: the TrueType font at ``path`` if there is one,
    else the built-in CID font."""
    if path and Path(path).is_file():
        pdfmetrics.registerFont(TTFont(EMBEDDED, path))
        return EMBEDDED
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK))
    return FALLBACK


def both(label: str | Promise) -> str:
    """A label in Japanese, then in English: ``精算明細書 / Settlement statement``."""
    with translation.override("ja"):
        ja = str(label)
    with translation.override("en"):
        en = str(label)
    return en if ja == en else f"{ja} / {en}"


class _Styles:
    def __init__(self, font: str) -> None:
        self.title = ParagraphStyle("title", fontName=font, fontSize=16, leading=20)
        self.body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12)
        self.ja = ParagraphStyle("ja", parent=self.body, wordWrap="CJK")
        self.cell = ParagraphStyle("cell", fontName=font, fontSize=7.5, leading=9.5)
        self.text = ParagraphStyle("text", parent=self.cell, wordWrap="CJK")
        self.number = ParagraphStyle("number", parent=self.cell, alignment=2)  # right
        self.heading = ParagraphStyle("heading", fontName=font, fontSize=11, leading=15)


def statement_pdf(statement: SettlementStatement) -> bytes:
    """The statement's PDF: its company, period, lines, totals and net position, the hub and
    rounding rules, its SHA-256 and its signature's key."""
    document = json.loads(statement.document)
    styles = _Styles(font_for(settings.SANPO_PDF_FONT))
    out = io.BytesIO()
    pdf = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"Sanpo settlement {document['period']['first_day']} {document['company']}",
        invariant=True,
    )
    pdf.build(_story(statement, document, styles))
    return out.getvalue()


def _story(statement: SettlementStatement, document: dict[str, Any], s: _Styles) -> list[Any]:
    partner, period = statement.partner, document["period"]
    text = escape
    head = [
        (_("company"), f"{partner.name_ja} ({partner.name_latin}, {partner.slug})"),
        (_("period"), f"{period['first_day']} \u2013 {period['last_day']} ({period['time_zone']})"),
        (_("through the host"), document["through"]),
        (_("currency"), document["currency"]),
        (_("status"), _status(statement)),
    ]
    story: list[Any] = [Paragraph(text(both(_("Settlement statement"))), s.title), Spacer(1, 4)]
    story.append(_pairs(head, s))
    story += [Spacer(1, 6), Paragraph(text(both(_("Lines"))), s.heading)]
    story.append(_lines(document["lines"], s))
    story += [Spacer(1, 6), Paragraph(text(both(_("Totals and net position"))), s.heading)]
    story.append(_pairs(_totals(document), s))
    for label, rule in (
        (_("How companies settle"), document["hub_rule"]),
        (_("Rounding rule"), document["rounding_rule"]),
    ):
        story += [Spacer(1, 6), Paragraph(text(both(label)), s.heading)]
        story += [Paragraph(text(rule["ja"]), s.ja), Paragraph(text(rule["en"]), s.body)]
    integrity = [Paragraph(text(both(_("Integrity"))), s.heading), _pairs(_integrity(statement), s)]
    story += [Spacer(1, 6), KeepTogether(integrity)]
    return story


def _status(statement: SettlementStatement) -> str:
    if statement.issued_at is None:
        return both(_("provisional: not issued yet"))
    issued = timezone.localtime(statement.issued_at, TOKYO)
    return f"{both(_('issued'))} {issued.isoformat(timespec='seconds')} (Asia/Tokyo)"


def _totals(document: dict[str, Any]) -> list[tuple[Any, str]]:
    totals = document["totals"]
    values = {
        "company": document["company"],
        "host": document["through"],
        "amount": totals["net_yen"].lstrip("-"),
    }
    settles = SETTLES[document["settles"]]
    with translation.override("ja"):
        ja = str(settles) % values
    with translation.override("en"):
        en = str(settles) % values
    return [
        (_("to receive (yen)"), totals["receivable_yen"]),
        (_("to pay (yen)"), totals["payable_yen"]),
        (_("net position (yen)"), totals["net_yen"]),
        (_("settles"), f"{ja} / {en}"),
    ]


def _integrity(statement: SettlementStatement) -> list[tuple[Any, str]]:
    unsigned = both(_("not signed yet"))
    return [
        (_("SHA-256 of the canonical JSON"), statement.content_hash),
        (_("signing key"), statement.signing_key_id or unsigned),
        (_("Ed25519 signature"), statement.signature or unsigned),
    ]


def _pairs(rows: list[tuple[Any, str]], s: _Styles) -> Flowable:
    cells = [
        [Paragraph(escape(both(label)), s.cell), Paragraph(escape(value), s.ja)]
        for label, value in rows
    ]
    table = Table(cells, colWidths=[70 * mm, 200 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _lines(lines: list[dict[str, Any]], s: _Styles) -> Flowable:
    header = [Paragraph(escape(both(label)), s.cell) for _key, label in COLUMNS]
    rows = [header]
    for line in lines:
        shown = {
            **line,
            "kind": both(KINDS.get(line["kind"], line["kind"])),
            "direction": both(DIRECTIONS.get(line["direction"], line["direction"])),
            "adjusts": line["adjusts"] and f"{line['adjusts']['line_id']}",
        }
        rows.append([_cell(key, shown.get(key), s) for key, _label in COLUMNS])
    widths = [10, 38, 30, 30, 30, 18, 30, 24, 20, 43]
    table = Table(rows, colWidths=[w * mm for w in widths], repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _cell(key: str, value: Any, s: _Styles) -> Paragraph:
    shown = "\u2013" if value is None or value == "" else str(value)
    return Paragraph(escape(shown), s.number if key in NUMERIC else s.text)


def pdf_response(statement: SettlementStatement) -> HttpResponse:
    """The statement's PDF as a download, never cached."""
    period = statement.period
    name = f"sanpo-settlement-{period.starts_on:%Y%m%d}-{statement.partner.slug}.pdf"
    response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store, private"
    return response
