"""The deposit report through the partner API (the caller's own figures only; a bad base date
is a 400 naming it) and in the alliance console (every issuer, on screen and as CSV, for
managers alone)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from federation.coins.reports import latest_base_date
from partners.models import AuditEvent, Partner, Person
from tests.conftest import Key, client_for
from tests.federation.test_coin_deposit import ledger  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
URL = "/api/v1/coins/deposit-report"
PAGE = "/admin/federation/coinaccount/deposit-report/"


def _report(key: Key, query: str = "") -> Any:
    return client_for(key).get(f"{URL}{query}")


@pytest.mark.usefixtures("ledger")
def test_the_issuer_reads_its_own_figures_at_a_base_date(host_key: Key) -> None:
    response = _report(host_key, "?base_date=2026-03-31")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "issuer": "host-co",
        "base_date": "2026-03-31",
        "period_start": "2025-10-01",
        "unused": {"coins": 550, "yen": "549"},
        "issued": {"coins": 60, "yen": "60"},
        "cancelled": {"coins": 210, "yen": "76"},
        "used": {"coins": 60, "yen": "90"},
        "expired": {"coins": 640, "yen": "960"},
        "threshold_yen": "10000000",
        "excess_yen": "0",
        "report_required": False,
        "deposit_yen": "0",
    }


@pytest.mark.usefixtures("ledger")
def test_another_company_reads_only_its_own_figures(partner_key: Key, outsider: Partner) -> None:
    # The partner spent the host's coins and funded a lot of its own: it sees that lot only,
    # whatever it asks for.
    mine = _report(partner_key, "?base_date=2026-03-31&issuer=host-co").json()
    assert (mine["issuer"], mine["unused"]) == ("brand-co", {"coins": 1000, "yen": "1000"})
    assert mine["used"] == {"coins": 0, "yen": "0"}


def test_without_a_base_date_the_latest_ended_one_is_reported(host_key: Key) -> None:
    response = _report(host_key)

    assert response.status_code == 200
    assert response.json()["base_date"] == latest_base_date().isoformat()
    assert response.json()["unused"] == {"coins": 0, "yen": "0"}


def _next_base_date() -> date:
    day = timezone.localdate()
    while (day.month, day.day) not in {(3, 31), (9, 30)}:
        day += timedelta(days=1)
    return day


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("2026-03-30", "31 March or 30 September"),
        ("2026-02-28", "31 March or 30 September"),
        ("2099-09-30", "not ended"),
        ("next", "not ended"),
        ("31-03-2026", "YYYY-MM-DD"),
        ("2026-3-31", "YYYY-MM-DD"),
        ("2026-03-31T00:00", "YYYY-MM-DD"),
        ("2026-02-31", "YYYY-MM-DD"),
        ("", "YYYY-MM-DD"),
        ("' OR 1=1 --", "YYYY-MM-DD"),
        ("2010-03-31", "first base date"),
        ("0001-03-31", "first base date"),
    ],
)
def test_a_bad_base_date_is_a_400_that_names_it(host_key: Key, raw: str, says: str) -> None:
    raw = _next_base_date().isoformat() if raw == "next" else raw
    response = client_for(host_key).get(URL, {"base_date": raw})

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert says in error["fields"]["base_date"][0]


def test_the_refusal_is_in_japanese_when_asked(host_key: Key) -> None:
    response = client_for(host_key).get(URL, {"base_date": "2026-03-30"}, HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 400
    assert "基準日" in response.json()["error"]["fields"]["base_date"][0]


def test_a_read_only_key_may_read_it_and_nobody_anonymous(partner_read_key: Key) -> None:
    assert _report(partner_read_key, "?base_date=2025-09-30").status_code == 200
    assert client_for(None).get(URL).status_code == 401


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.usefixtures("ledger")
def test_the_console_lists_every_issuer_and_exports_csv_without_an_audit_event(
    alliance_manager: User,
) -> None:
    manager = _client(alliance_manager)
    page = manager.get(f"{PAGE}?base_date=2026-03-31")
    assert page.status_code == 200
    assert page.context["base_date"] == date(2026, 3, 31)
    rows = [(report.issuer.slug, report.unused.coins) for _name, report in page.context["rows"]]
    assert rows == [("brand-co", 1000), ("host-co", 550)]
    assert "549" in page.content.decode()
    events = AuditEvent.objects.count()

    export = manager.get(f"{PAGE}?base_date=2026-03-31&format=csv")

    assert export["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(export.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:5] == ["issuer", "base date", "half-year from", "unused coins", "unused (yen)"]
    assert lines[2][:5] == ["host-co", "2026-03-31", "2025-10-01", "550", "549"]
    assert lines[2][-2:] == ["no", "0"]
    assert AuditEvent.objects.count() == events  # reading a report is not an audited act


def test_the_console_defaults_to_the_latest_base_date_and_ignores_a_bad_one(
    alliance_manager: User,
) -> None:
    manager = _client(alliance_manager)
    bad = ("2026-03-30", "2099-09-30", "x", "0001-03-31", "2010-03-31")
    for query in ("", *(f"?base_date={day}" for day in bad)):
        page = manager.get(f"{PAGE}{query}")
        assert page.status_code == 200, query
        assert page.context["base_date"] == latest_base_date(), query


def test_the_console_page_is_in_japanese_and_linked_from_the_overview(
    alliance_manager: User,
) -> None:
    manager = _client(alliance_manager)
    overview = manager.get("/admin/federation/coinaccount/overview/")
    assert PAGE in overview.content.decode()
    page = manager.get(PAGE, HTTP_ACCEPT_LANGUAGE="ja")
    assert "資金決済法" in page.content.decode()


def test_the_console_page_is_for_managers_alone(
    compliance_reviewer: User, partner_admin: User, db: Any
) -> None:
    Person.objects.create()
    for other in (compliance_reviewer, partner_admin):
        assert _client(other).get(PAGE).status_code in (302, 403)
        assert _client(other).get(f"{PAGE}?format=csv").status_code in (302, 403)
