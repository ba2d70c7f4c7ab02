"""Metrics in the alliance console: the dashboard's charts and tables for the alliance and
for one company (with the lift of its reactivation bonus), its filters, the read-only lists
with CSV, for managers alone, in Japanese too."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from federation.metrics.models import DailyFigure
from partners.models import Partner
from tests.federation.test_metrics import _alliance

pytestmark = pytest.mark.django_db
BASE = "/admin/federation/"
DASHBOARD = f"{BASE}dailyfigure/dashboard/"


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def figures(host: Partner, partner: Partner) -> date:
    """Four weeks of figures: members, coins the partner issued spent at the host, clicks."""
    today = timezone.localdate()
    for back in range(28):
        day = today - timedelta(days=back)
        DailyFigure.objects.create(day=day, metric="members_active", company=host, value=40 + back)
        DailyFigure.objects.create(day=day, metric="members_dormant", company=host, value=back)
        DailyFigure.objects.create(
            day=day, metric="coins_spent", company=host, counterparty=partner, value=10
        )
        DailyFigure.objects.create(
            day=day, metric="referral_clicks", company=host, counterparty=partner, value=3
        )
    return today


@pytest.mark.usefixtures("figures")
def test_the_dashboard_draws_the_alliance_and_one_company(
    alliance_manager: User, partner: Partner
) -> None:
    manager = _client(alliance_manager)
    page = manager.get(DASHBOARD)
    assert page.status_code == 200
    content = page.content.decode()
    assert content.count("class='sanpo-chart-svg'") == 6
    assert page.context["board"].flows == [("brand-co", "host-co", 280)]
    members = dict(page.context["board"].charts)["members"]
    assert not members.empty
    assert "Choose a company" in content
    # One company, by day: the partner spent nothing and clicked nothing of its own.
    theirs = manager.get(DASHBOARD, {"company": "brand-co", "grain": "day"})
    assert theirs.context["company"] == partner
    assert dict(theirs.context["board"].charts)["members"].empty
    assert theirs.context["board"].flows == [("brand-co", "host-co", 280)]  # its coins
    # Malformed filters fall back to their defaults rather than failing.
    odd = manager.get(DASHBOARD, {"from": "2026-99-99", "grain": "year", "company": "nobody"})
    assert odd.status_code == 200
    for far in ("0001-01-01", "9999-12-31"):  # days whose neighbours are no dates at all
        assert manager.get(DASHBOARD, {"to": far}).status_code == 200
    assert odd.context["grain"] == "week"
    assert odd.context["company"] is None


def test_the_lift_shows_its_intervals_for_a_company(
    alliance_manager: User, host: Partner, settings: object
) -> None:
    _alliance(host, 1200, treated=0.4, held=0.1, seed=2)
    page = _client(alliance_manager).get(
        DASHBOARD, {"company": "host-co", "from": "2026-09-01", "to": "2026-09-30"}
    )
    content = page.content.decode()
    assert "lift-interval" in content
    assert len(page.context["board"].intervals) == 5
    assert "Newcombe" in content


@pytest.mark.usefixtures("figures")
def test_pages_answer_managers_alone_and_export_csv(
    alliance_manager: User, compliance_reviewer: User, partner_admin: User
) -> None:
    pages = [DASHBOARD, f"{BASE}dailyfigure/", f"{BASE}liftresult/", f"{BASE}holdout/"]
    manager = _client(alliance_manager)
    for page in pages:
        assert manager.get(page).status_code == 200, page
    for other in (compliance_reviewer, partner_admin):
        for page in pages:
            assert _client(other).get(page).status_code in (302, 403), (other, page)
    exported = manager.get(f"{BASE}dailyfigure/export-csv/?metric__exact=coins_spent")
    rows = b"".join(exported.streaming_content).decode()  # type: ignore[attr-defined]
    assert "coins_spent,host-co,brand-co,10" in rows
    assert "members_active" not in rows


@pytest.mark.usefixtures("figures")
def test_the_dashboard_reads_japanese(alliance_manager: User) -> None:
    content = _client(alliance_manager).get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "アクティブ会員" in content
    assert "会社間で利用されたコイン" in content
