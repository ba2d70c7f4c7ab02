"""Reads of settlement: what a company may see of its periods, and the host's pictures of a
period (who owes whom, net positions)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum

from federation.settlement.models import (
    SettlementDispute,
    SettlementLine,
    SettlementPeriod,
    SettlementRun,
    SettlementStatement,
)
from federation.settlement.services.statements import ordered_lines
from partners.models import Partner

State = SettlementPeriod.State
# What a company sees of a period: nothing while the host drafts it.
VISIBLE = (State.REVIEW, State.LOCKED, State.ISSUED, State.PAID)


def periods_of(partner: Partner) -> QuerySet[SettlementPeriod]:
    """The periods ``partner`` has a statement in, past the draft, newest first."""
    return SettlementPeriod.objects.filter(state__in=VISIBLE, statements__partner=partner)


def statement_status(statement: SettlementStatement, *, disputed: bool) -> str:
    """provisional (not issued yet), disputed (an open dispute of the company), issued,
    acknowledged (by the company), or paid (its payment is recorded)."""
    if hasattr(statement, "payment"):
        return "paid"
    if disputed:
        return "disputed"
    if hasattr(statement, "acknowledgement"):
        return "acknowledged"
    return "issued" if statement.issued_at else "provisional"


def lines_of(period: SettlementPeriod, partner: Partner) -> list[SettlementLine]:
    """The period's lines ``partner`` is a party of, numbered as on every statement."""
    return [
        line for line in ordered_lines(period) if partner.pk in (line.debtor_id, line.creditor_id)
    ]


def disputes_of(period: SettlementPeriod, partner: Partner | None = None) -> QuerySet[Any]:
    """The disputes on the period's lines (those on ``partner``'s lines when given)."""
    found = SettlementDispute.objects.filter(line__period=period).select_related(
        "raised_by", "line__debtor", "line__creditor", "adjustment__period"
    )
    if partner is not None:
        found = found.filter(Q(line__debtor=partner) | Q(line__creditor=partner))
    return found.order_by("raised_at", "id")


@dataclass(frozen=True)
class Matrix:
    """Who owes whom in a period: ``cells[(debtor, creditor)]`` in whole yen (memo lines
    left out), the companies in slug order, and each one's net position."""

    companies: list[Partner]
    cells: dict[tuple[Any, Any], Decimal]
    nets: dict[Any, Decimal]

    @property
    def largest(self) -> Decimal:
        return max((abs(v) for v in self.cells.values()), default=Decimal(0))


def matrix_of(period: SettlementPeriod) -> Matrix:
    """The bilateral gross amounts of ``period``, one GROUP BY over its lines."""
    rows = (
        period.lines.filter(debtor__isnull=False, creditor__isnull=False)
        .values("debtor_id", "creditor_id")
        .annotate(total=Sum("amount_yen"))
        .order_by()
    )
    cells = {(r["debtor_id"], r["creditor_id"]): Decimal(r["total"]) for r in rows}
    nets = dict(period.statements.values_list("partner_id", "net_yen"))
    ids = {pid for pair in cells for pid in pair} | set(nets)
    companies = list(Partner.objects.filter(pk__in=ids).order_by("slug"))
    return Matrix(companies, cells, nets)


def last_run(period: SettlementPeriod) -> SettlementRun | None:
    """The period's latest computation, running or finished (None before the first)."""
    return SettlementRun.objects.filter(period_id=period.pk).order_by("-pk").first()
