"""Settlement of a hand-computed month: redemptions across issuers, a clawback shortfall,
breakage, a dispute accepted into the next period, and a late reversal adjusting a closed one.

May 2026, by hand (see ``settlement_world.may_ledger``):
- redemptions: A owes B 1,000.0000 (p1's A coins at B), A owes the host 300.6000 (p2's A
  coins at 1.002), B owes A 150.0000 and the host owes A 123.4500 (p1 at A). Exact total
  1,574.05, whole 1,574; the floors make 1,573, and the one yen left goes to the largest
  remainder (A to the host, .60): 301. Rounding line: 1,574 - 1,574.05 = -0.05.
- breakage: the host's 50 coins at 1.2345 = 61.725, whole 62 (rounding +0.275).
- clawback shortfall: A's 1,000 coins at 1 yen, already spent: 1,000.
- nets: A 273 - 1,301 = -1,028; B 1,000 - 150 = 850; the host 301 - 123 = 178; sum 0.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from federation.coins.services import coins_reverse
from federation.settlement.models import (
    SettlementDispute,
    SettlementLine,
    SettlementPeriod,
    SettlementStatement,
)
from federation.settlement.services import (
    dispute_raise,
    dispute_resolve,
    payment_record,
    period_compute,
    period_issue,
    period_lock,
    period_rerun,
    period_review_open,
    statement_verify,
)
from partners.errors import ApplicationError
from partners.models import AuditEvent, WebhookDelivery
from partners.services import webhook_endpoint_create
from tests.federation.settlement_world import (
    SYSTEM,
    Alliance,
    ledger_clock,
    make_alliance,
    may_ledger,
    tokyo,
)

Kind = SettlementLine.Kind
MAY = (date(2026, 5, 1), date(2026, 5, 31))
JUNE = (date(2026, 6, 1), date(2026, 6, 30))
JUNE_FIRST = tokyo(date(2026, 6, 1), 0)


@pytest.fixture
def alliance(db: Any) -> Alliance:
    return make_alliance()


def _lines(period: SettlementPeriod) -> set[tuple[str, str | None, str | None, str, str]]:
    return {
        (
            line.kind,
            line.debtor.slug if line.debtor else None,
            line.creditor.slug if line.creditor else None,
            str(line.exact_yen),
            str(line.amount_yen),
        )
        for line in period.lines.select_related("debtor", "creditor")
    }


def _nets(period: SettlementPeriod) -> dict[str, Decimal]:
    return {s.partner.slug: s.net_yen for s in period.statements.select_related("partner")}


def _line(period: SettlementPeriod, kind: str, debtor: Any, creditor: Any) -> SettlementLine:
    return period.lines.get(kind=kind, debtor=debtor, creditor=creditor)


def _error(call: Any) -> str:
    with pytest.raises(ApplicationError) as caught:
        call()
    return str(caught.value.code)


def test_may_is_settled_as_computed_by_hand(alliance: Alliance) -> None:
    may_ledger(alliance)
    may = period_compute(alliance.period(*MAY), actor=SYSTEM)

    assert _lines(may) == {
        (Kind.REDEMPTION, "st-a", "st-b", "1000.0000", "1000"),
        (Kind.REDEMPTION, "st-a", "st-host", "300.6000", "301"),
        (Kind.REDEMPTION, "st-b", "st-a", "150.0000", "150"),
        (Kind.REDEMPTION, "st-host", "st-a", "123.4500", "123"),
        (Kind.ROUNDING, None, "st-host", "-0.0500", "0"),
        (Kind.BREAKAGE, None, "st-host", "61.7250", "62"),
        (Kind.ROUNDING, None, "st-host", "0.2750", "0"),
        (Kind.CLAWBACK_SHORTFALL, "st-a", None, "1000.0000", "1000"),
    }
    assert _nets(may) == {"st-a": -1028, "st-b": 850, "st-host": 178}
    assert sum(_nets(may).values()) == 0


def test_a_statement_shows_only_its_company_lines_the_rules_and_verifies(
    alliance: Alliance,
) -> None:
    may_ledger(alliance)
    may = period_compute(alliance.period(*MAY), actor=SYSTEM)
    b = may.statements.get(partner=alliance.b)

    document = json.loads(b.document)
    assert [
        (line["kind"], line["direction"], line["amount_yen"]) for line in document["lines"]
    ] == [
        ("redemption", "receive", "1000"),
        ("redemption", "pay", "150"),
    ]
    assert document["totals"] == {
        "receivable_yen": "1000",
        "payable_yen": "150",
        "net_yen": "850",
    }
    assert document["settles"] == "receive"
    assert document["through"] == "st-host"
    assert "largest-remainder" in document["rounding_rule"]["en"]
    assert statement_verify(b)
    tampered = b.document.replace('"1000"', '"1001"')
    assert not statement_verify(b, tampered)


def test_a_period_moves_through_its_states_audited_and_told(alliance: Alliance) -> None:
    for who in (alliance.a, alliance.b, alliance.host):
        webhook_endpoint_create(
            partner=who, url="http://127.0.0.1:9/settle", events=["settlement.locked"], actor=SYSTEM
        )
    may_ledger(alliance)
    may = alliance.period(*MAY)

    assert _error(lambda: period_review_open(may, actor=SYSTEM, now=tokyo(MAY[1]))) == (
        "period_not_over"
    )
    assert _error(lambda: period_lock(may, actor=SYSTEM)) == "period_state"
    period_review_open(may, actor=SYSTEM, now=JUNE_FIRST)
    assert _error(lambda: period_compute(may, actor=SYSTEM)) == "period_state"
    period_lock(may, actor=SYSTEM)
    period_issue(may, actor=SYSTEM)
    may.refresh_from_db()
    assert may.state == SettlementPeriod.State.ISSUED
    assert WebhookDelivery.objects.filter(event_type="settlement.locked").count() == 3
    actions = set(AuditEvent.objects.filter(object_id=str(may.pk)).values_list("action", flat=True))
    assert {
        "settlement.review_opened",
        "settlement.locked",
        "settlement.statements_issued",
    } <= actions

    for statement in may.statements.exclude(net_yen=0):
        payment_record(statement, reference=f"BANK-{statement.partner.slug}", actor=SYSTEM)
    may.refresh_from_db()
    assert may.state == SettlementPeriod.State.PAID


def test_rerunning_a_locked_period_is_byte_identical(alliance: Alliance) -> None:
    may_ledger(alliance)
    may = alliance.period(*MAY)
    period_review_open(may, actor=SYSTEM, now=JUNE_FIRST)
    period_lock(may, actor=SYSTEM)
    before = list(may.statements.order_by("partner__slug").values_list("document", "content_hash"))

    assert period_rerun(may) == []
    may_again = SettlementPeriod.objects.get(pk=may.pk)
    assert period_rerun(may_again) == []
    after = list(may.statements.order_by("partner__slug").values_list("document", "content_hash"))
    assert after == before


def test_overlapping_periods_are_refused(alliance: Alliance) -> None:
    alliance.period(*MAY)

    assert _error(lambda: alliance.period(date(2026, 5, 31), date(2026, 6, 5))) == "period_overlap"
    assert _error(lambda: alliance.period(date(2026, 4, 1), date(2026, 5, 1))) == "period_overlap"
    assert SettlementPeriod.objects.count() == 1
    alliance.period(*JUNE)  # adjacent is fine
    assert SettlementPeriod.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own constraint")
def test_postgresql_itself_refuses_overlap_and_changing_issued_statements(
    alliance: Alliance,
) -> None:
    may_ledger(alliance)
    may = alliance.period(*MAY)
    with pytest.raises(DatabaseError), transaction.atomic():
        SettlementPeriod.objects.create(
            host=alliance.host,
            starts_on=date(2026, 5, 20),
            ends_on=date(2026, 6, 10),
            starts_at=tokyo(date(2026, 5, 20), 0),
            ends_at=tokyo(date(2026, 6, 11), 0),
        )
    period_review_open(may, actor=SYSTEM, now=JUNE_FIRST)
    period_lock(may, actor=SYSTEM)
    with pytest.raises(DatabaseError), transaction.atomic():
        may.lines.update(amount_yen=0)
    period_issue(may, actor=SYSTEM)
    with pytest.raises(DatabaseError), transaction.atomic():
        SettlementStatement.objects.filter(period=may).update(net_yen=0, receivable_yen=0)
    with pytest.raises(DatabaseError), transaction.atomic():
        SettlementStatement.objects.filter(period=may).delete()
    assert may.statements.count() == 3


def test_a_dispute_accepted_becomes_an_adjustment_in_the_next_period(alliance: Alliance) -> None:
    ledger = may_ledger(alliance)
    may, june = alliance.period(*MAY), alliance.period(*JUNE)
    a_to_b = _line(period_compute(may, actor=SYSTEM), Kind.REDEMPTION, alliance.a, alliance.b)
    assert _error(lambda: dispute_raise(a_to_b, partner=alliance.b, reason="x", actor=SYSTEM)) == (
        "period_state"  # a draft is not under review yet
    )
    period_review_open(may, actor=SYSTEM, now=JUNE_FIRST)
    a_to_b = _line(may, Kind.REDEMPTION, alliance.a, alliance.b)

    stranger = lambda: dispute_raise(a_to_b, partner=alliance.host, reason="x", actor=SYSTEM)  # noqa: E731
    assert _error(stranger) == "not_found"
    dispute = dispute_raise(a_to_b, partner=alliance.b, reason="Ten yen short", actor=SYSTEM)
    again = lambda: dispute_raise(a_to_b, partner=alliance.b, reason="again", actor=SYSTEM)  # noqa: E731
    assert _error(again) == "already_disputed"
    period_lock(may, actor=SYSTEM)
    late = lambda: dispute_raise(a_to_b, partner=alliance.a, reason="late", actor=SYSTEM)  # noqa: E731
    assert _error(late) == "period_state"
    assert SettlementDispute.objects.filter(state="open").count() == 1  # carried as open

    dispute_resolve(
        dispute, accepted=True, correction_yen=Decimal(10), resolution="Agreed", actor=SYSTEM
    )
    resolved = lambda: dispute_resolve(dispute, accepted=False, resolution="", actor=SYSTEM)  # noqa: E731
    assert _error(resolved) == "dispute_resolved"

    adjustment = june.lines.get(kind=Kind.ADJUSTMENT)
    assert (adjustment.adjusts, adjustment.amount_yen) == (a_to_b, 10)
    assert (adjustment.debtor, adjustment.creditor) == (alliance.a, alliance.b)
    assert may.lines.filter(kind=Kind.ADJUSTMENT).count() == 0
    assert period_rerun(may) == []  # the closed period is untouched

    # A late reversal of p1's May redemption at A, posted in June: adjustments naming May's
    # lines (-150 and -123.45; total -273.45, whole -273: the host's part gets the yen).
    with ledger_clock(tokyo(date(2026, 6, 5))):
        coins_reverse(ledger.p1_at_a, actor=SYSTEM)
    june = period_compute(june, actor=SYSTEM)

    assert _lines(june) == {
        (Kind.ADJUSTMENT, "st-a", "st-b", "10.0000", "10"),
        (Kind.ADJUSTMENT, "st-b", "st-a", "-150.0000", "-150"),
        (Kind.ADJUSTMENT, "st-host", "st-a", "-123.4500", "-123"),
        (Kind.ROUNDING, None, "st-host", "0.4500", "0"),
    }
    reversal = june.lines.get(kind=Kind.ADJUSTMENT, debtor=alliance.host)
    assert reversal.adjusts == _line(may, Kind.REDEMPTION, alliance.host, alliance.a)
    assert _nets(june) == {"st-a": -283, "st-b": 160, "st-host": 123}
    figures = _lines(june)
    period_compute(june, actor=SYSTEM)
    assert _lines(june) == figures  # computed again, the same
    assert june.lines.filter(source="posted").count() == 1  # the dispute's stays


def test_a_rejected_dispute_posts_nothing(alliance: Alliance) -> None:
    may_ledger(alliance)
    may = alliance.period(*MAY)
    period_review_open(may, actor=SYSTEM, now=JUNE_FIRST)
    line = _line(may, Kind.CLAWBACK_SHORTFALL, alliance.a, None)
    dispute = dispute_raise(line, partner=alliance.a, reason="Refund was cancelled", actor=SYSTEM)
    no_next = lambda: dispute_resolve(  # noqa: E731
        dispute, accepted=True, correction_yen=Decimal(-5), resolution="", actor=SYSTEM
    )
    assert _error(no_next) == "no_open_period"

    dispute_resolve(dispute, accepted=False, resolution="The refund stands", actor=SYSTEM)

    dispute.refresh_from_db()
    assert dispute.state == SettlementDispute.State.REJECTED
    assert dispute.adjustment is None
    assert SettlementLine.objects.filter(kind=Kind.ADJUSTMENT).count() == 0
