"""Settlement in the alliance console: managers alone create periods, see who owes whom (a
table and a heat map), move a period on, resolve disputes and record payments, in English and
Japanese; every write goes through the services."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from typing import Any, cast

import pytest
from django.contrib.auth.models import User
from django.test import Client

from federation.settlement.models import SettlementDispute, SettlementPeriod
from federation.settlement.services import dispute_raise, period_review_open
from partners.models import AuditEvent
from tests.federation.settlement_world import (
    SYSTEM,
    Alliance,
    make_alliance,
    may_ledger,
    tokyo,
)

pytestmark = pytest.mark.django_db
BASE = "/admin/federation/settlementperiod/"
MAY = (date(2026, 5, 1), date(2026, 5, 31))


@pytest.fixture
def alliance(db: Any) -> Alliance:
    return make_alliance()


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_settlement_pages_answer_a_manager_and_nobody_else(
    alliance: Alliance, alliance_manager: User, compliance_reviewer: User
) -> None:
    may = alliance.period(*MAY)
    manager, reviewer = _client(alliance_manager), _client(compliance_reviewer)
    pages = [BASE, f"{BASE}add/", f"{BASE}{may.pk}/change/", f"{BASE}{may.pk}/lines.csv"]
    pages += [f"{BASE}export-csv/", "/admin/federation/settlementdispute/"]
    for page in pages:
        assert manager.get(page).status_code == 200, page
        assert reviewer.get(page).status_code in (302, 403), page
    assert reviewer.post(f"{BASE}{may.pk}/act/compute/").status_code in (302, 403)
    assert SettlementPeriod.objects.get().computed_at is None


def test_a_manager_creates_a_period_and_an_overlap_is_refused(
    alliance: Alliance, alliance_manager: User
) -> None:
    manager = _client(alliance_manager)
    created = manager.post(f"{BASE}add/", {"starts_on": "2026-05-01", "ends_on": "2026-05-31"})
    assert created.status_code == 302
    period = SettlementPeriod.objects.get()
    assert period.host == alliance.host

    refused = manager.post(
        f"{BASE}add/", {"starts_on": "2026-05-15", "ends_on": "2026-06-15"}, follow=True
    )
    assert "overlaps another settlement period" in refused.content.decode()
    assert SettlementPeriod.objects.count() == 1


def test_the_period_page_shows_who_owes_whom_and_moves_the_period_on(
    alliance: Alliance,
    alliance_manager: User,
    django_capture_on_commit_callbacks: Any,
    eager_celery: Any,
) -> None:
    may_ledger(alliance)
    may = alliance.period(*MAY)
    manager = _client(alliance_manager)

    assert manager.get(f"{BASE}{may.pk}/act/compute/").status_code == 405  # POST only
    with django_capture_on_commit_callbacks(execute=False) as queued:
        manager.post(f"{BASE}{may.pk}/act/compute/")
    page = manager.get(f"{BASE}{may.pk}/change/").content.decode()
    assert "Computation: Queued (0%)" in page
    assert 'http-equiv="refresh"' in page  # it refreshes itself while the run is on
    for callback in queued:  # the task, queued on commit (eager here)
        callback()
    page = manager.get(f"{BASE}{may.pk}/change/").content.decode()
    assert "Computation: Done (100%)" in page
    assert 'http-equiv="refresh"' not in page
    assert "<svg" in page
    assert "st-a owes st-b ¥1,000" in page  # the heat map cell's tooltip
    assert '<td class="numeric">-1028</td>' in page  # A's net position
    assert '<td class="numeric">850</td>' in page
    refused = manager.post(f"{BASE}{may.pk}/act/lock/", follow=True).content.decode()
    assert "not in a state that allows this" in refused

    period_review_open(may, actor=SYSTEM, now=tokyo(date(2026, 6, 1), 0))
    for action in ("lock", "issue"):
        manager.post(f"{BASE}{may.pk}/act/{action}/")
    may.refresh_from_db()
    assert may.state == SettlementPeriod.State.ISSUED
    for statement in may.statements.exclude(net_yen=0):
        manager.post(
            f"{BASE}{may.pk}/act/pay/", {"statement": statement.pk, "reference": "ZENGIN-1"}
        )
    may.refresh_from_db()
    assert may.state == SettlementPeriod.State.PAID
    assert AuditEvent.objects.filter(action="settlement.paid").count() == 1


def test_a_manager_resolves_a_dispute_into_the_next_period(
    alliance: Alliance, alliance_manager: User
) -> None:
    may_ledger(alliance)
    may = alliance.period(*MAY)
    june = alliance.period(date(2026, 6, 1), date(2026, 6, 30))
    period_review_open(may, actor=SYSTEM, now=tokyo(date(2026, 6, 1), 0))
    line = may.lines.get(kind="redemption", debtor=alliance.a, creditor=alliance.b)
    dispute = dispute_raise(line, partner=alliance.b, reason="Ten yen short", actor=SYSTEM)
    manager = _client(alliance_manager)
    act = f"{BASE}{may.pk}/act/resolve/"

    bad = manager.post(act, {"dispute": dispute.pk, "decision": "accept", "correction_yen": "1.5"})
    assert bad.status_code == 302
    assert SettlementDispute.objects.get().state == "open"
    manager.post(act, {"dispute": "not-a-uuid", "decision": "reject"})
    manager.post(
        act,
        {"dispute": dispute.pk, "decision": "accept", "correction_yen": "10", "resolution": "ok"},
    )

    disputes = manager.get("/admin/federation/settlementdispute/?state=accepted").content.decode()
    assert f"{BASE}{may.pk}/change/" in disputes
    export = manager.get("/admin/federation/settlementdispute/export-csv/")
    assert export.status_code == 200
    exported = b"".join(cast(Iterator[bytes], export.streaming_content))  # type: ignore[attr-defined]
    assert "Ten yen short" in exported.decode()
    dispute.refresh_from_db()
    assert dispute.state == "accepted"
    assert dispute.adjustment is not None
    assert dispute.adjustment.period == june


def test_the_lines_export_keeps_negative_amounts_as_numbers(
    alliance: Alliance, alliance_manager: User
) -> None:
    may_ledger(alliance)
    may = alliance.period(*MAY)
    period_review_open(may, actor=SYSTEM, now=tokyo(date(2026, 6, 1), 0))
    response = _client(alliance_manager).get(f"{BASE}{may.pk}/lines.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert rows[0][0] == "number"
    assert ["-0.0500", "0"] in [row[6:8] for row in rows]  # the rounding line, no apostrophe
    assert len(rows) == 1 + may.lines.count()


def test_the_period_page_reads_in_japanese(alliance: Alliance, alliance_manager: User) -> None:
    may = alliance.period(*MAY)
    page = (
        _client(alliance_manager)
        .get(f"{BASE}{may.pk}/change/", HTTP_ACCEPT_LANGUAGE="ja")
        .content.decode()
    )
    assert "会社間の支払関係(円)" in page
    assert "確認を開始" in page  # the draft's action
