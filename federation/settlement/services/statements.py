"""Statements: each company's lines of a period rendered as canonical JSON (keys sorted, no
spaces, amounts as strings, lines in a fixed order), hashed with SHA-256. The same lines give
the same bytes, so a recomputation can be compared byte for byte and a changed document fails
verification."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from django.db import transaction

from federation.settlement.models import SettlementLine, SettlementPeriod, SettlementStatement
from federation.settlement.rounding import ROUNDING_RULE
from partners.models import Partner

FORMAT = "sanpo.settlement.statement/1"
KIND_ORDER = {kind: i for i, kind in enumerate(SettlementLine.Kind.values)}
HUB = {
    "en": "Each company pays or receives one net amount, through the host: a positive net is "
    "paid to the company by the host, a negative one paid by the company to the host.",
    "ja": "各社はホストを通じて差引純額のみを決済します。純額がプラスの場合はホストから支払われ、"
    "マイナスの場合は会社がホストへ支払います。",
}


def canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def ordered_lines(period: SettlementPeriod) -> list[SettlementLine]:
    """The period's lines in their one order, numbered from 1 (``line.number``): by kind,
    debtor, creditor, then the line adjusted, the amount and the note, the id last (posted
    lines only can tie on everything else, and a recomputation never renumbers them)."""
    lines = list(period.lines.select_related("debtor", "creditor", "adjusts__period"))
    lines.sort(
        key=lambda line: (
            KIND_ORDER[line.kind],
            line.debtor.slug if line.debtor else "",
            line.creditor.slug if line.creditor else "",
            line.adjusts_id or 0,
            line.amount_yen,
            line.note,
            line.source,
            line.pk if line.source == SettlementLine.Source.POSTED else 0,
        )
    )
    for number, line in enumerate(lines, start=1):
        line.number = number  # type: ignore[attr-defined]
    return lines


def _line_view(line: SettlementLine, partner_id: object) -> dict[str, Any]:
    direction = "receive" if line.creditor_id == partner_id else "pay"
    if line.is_memo:
        direction = "memo"
    adjusts = line.adjusts
    return {
        "number": line.number,  # type: ignore[attr-defined]
        "kind": line.kind,
        "debtor": line.debtor.slug if line.debtor else None,
        "creditor": line.creditor.slug if line.creditor else None,
        "direction": direction,
        "coins": line.coins,
        "exact_yen": str(line.exact_yen),
        "amount_yen": str(line.amount_yen),
        "adjusts": ({"period": str(adjusts.period_id), "line_id": adjusts.pk} if adjusts else None),
        "note": line.note,
    }


def render(
    period: SettlementPeriod, partner: Partner, lines: list[SettlementLine]
) -> dict[str, Any]:
    """``partner``'s statement document of ``period`` from the period's ordered lines."""
    mine = [line for line in lines if partner.pk in (line.debtor_id, line.creditor_id)]
    receivable = sum(
        (line.amount_yen for line in mine if not line.is_memo and line.creditor_id == partner.pk),
        Decimal(0),
    )
    payable = sum(
        (line.amount_yen for line in mine if not line.is_memo and line.debtor_id == partner.pk),
        Decimal(0),
    )
    net = receivable - payable
    return {
        "format": FORMAT,
        "alliance": period.host.slug,
        "period": {
            "id": str(period.pk),
            "first_day": period.starts_on.isoformat(),
            "last_day": period.ends_on.isoformat(),
            "time_zone": "Asia/Tokyo",
        },
        "company": partner.slug,
        "currency": "JPY",
        "lines": [_line_view(line, partner.pk) for line in mine],
        "totals": {
            "receivable_yen": str(receivable),
            "payable_yen": str(payable),
            "net_yen": str(net),
        },
        "settles": "receive" if net > 0 else "pay" if net < 0 else "nothing",
        "through": period.host.slug,
        "hub_rule": HUB,
        "rounding_rule": ROUNDING_RULE,
    }


def statements_write(period: SettlementPeriod) -> list[SettlementStatement]:
    """Replace the period's provisional statements by ones rendered from its lines now: one
    per company named on a line. Refuses nothing itself: callers check the period's state
    (and PostgreSQL refuses deleting an issued statement)."""
    lines = ordered_lines(period)
    ids = {pid for line in lines for pid in (line.debtor_id, line.creditor_id) if pid}
    with transaction.atomic():
        period.statements.all().delete()
        statements = []
        for partner in Partner.objects.filter(pk__in=ids).order_by("slug"):
            document = render(period, partner, lines)
            text = canonical(document)
            totals = document["totals"]
            statements.append(
                SettlementStatement(
                    period=period,
                    partner=partner,
                    receivable_yen=Decimal(totals["receivable_yen"]),
                    payable_yen=Decimal(totals["payable_yen"]),
                    net_yen=Decimal(totals["net_yen"]),
                    document=text,
                    content_hash=content_hash(text),
                )
            )
        return SettlementStatement.objects.bulk_create(statements)


def statement_verify(statement: SettlementStatement, document: str | None = None) -> bool:
    """Whether ``document`` (the stored one by default, or a downloaded copy) is the
    statement's: its SHA-256 is the recorded hash, and rendering the period's lines again
    gives the same bytes."""
    text = statement.document if document is None else document
    if content_hash(text) != statement.content_hash:
        return False
    period = statement.period
    again = canonical(render(period, statement.partner, ordered_lines(period)))
    return again == text
