"""The first ten minutes, as a newcomer lives them on ``make run``'s demo alliance, in a real
browser and in Japanese: the root page leads to the console; the alliance manager logs in and
the dashboard draws; an agreement in force reads as terms, with its amendment in words; a
member is found by e-mail through the blind index; enrollments and webhook deliveries that
really happened are listed; the coin ledger verifies; and the API docs open from the root page.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from federation.models import Agreement
from partners.models import MemberAccount
from partners.services.member_records import open_member
from tests.demo_data import DEMO_MIN_CELL, demo_receiver, load_demo  # noqa: F401 (fixture)

PASSWORD = "sanpo-demo-2026"  # the demo's printed password


@pytest.fixture
def demo(live_url: str, eager_celery: None, settings: Any, demo_receiver: str) -> None:  # noqa: F811
    settings.SANPO_OVERLAP_MIN_CELL_FLOOR = DEMO_MIN_CELL
    settings.SANPO_WEBHOOK_ALLOW_LOOPBACK = True
    load_demo(demo_receiver)


def _log_in_as_manager(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="アライアンス管理コンソール").click()
    page.fill("#id_username", "manager")
    page.fill("#id_password", PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page.locator("#content h1")).to_be_visible()


def test_a_newcomer_sees_the_whole_product_on_the_demo(demo: None, page: Page) -> None:
    _log_in_as_manager(page)

    # The dashboard opens on the alliance's figures, and its charts draw.
    charts = page.locator("svg.sanpo-chart-svg")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 5
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box is not None
        assert box["width"] > 100
        assert box["height"] > 20

    # The amended agreement reads as terms, and its amendment in words.
    amended = Agreement.objects.get(title__startswith="Kirari & Midori")
    page.goto(f"/admin/federation/agreement/{amended.pk}/change/")
    expect(page.locator("body")).to_contain_text("tsubame-travel")
    expect(page.locator("body")).not_to_contain_text('"data_flows"')  # no JSON dump
    diff = page.locator("a[href*='/diff/']").first
    diff.click()
    expect(page.locator("#content")).to_contain_text("tsubame-travel")

    # A member is found by e-mail, through the blind index.
    member = MemberAccount.objects.get(partner__slug="kirari", member_number="K00000002")
    email = open_member(member, ("email",))["email"]
    assert email, "the demo's K00000002 has an e-mail address"
    page.goto("/admin/partners/memberaccount/")
    page.fill("#searchbar", email)
    page.keyboard.press("Enter")
    expect(page.locator("#result_list")).to_contain_text("K00000002")

    # Enrollments and real webhook deliveries, made by the demo through the services.
    page.goto("/admin/federation/enrollment/")
    expect(page.locator("#result_list tbody tr").first).to_be_visible()
    page.goto("/admin/partners/webhookdelivery/?status__exact=succeeded")
    expect(page.locator("#result_list tbody tr").first).to_be_visible()

    # The coin ledger's overview verifies.
    page.goto("/admin/federation/coinaccount/overview/")
    expect(page.locator("#ledger-verification")).to_contain_text("台帳は正しく検証されました")

    # The API docs open from the root page, from Sanpo's own files.
    page.goto("/")
    page.locator("a[href='/api/redoc/']").click()
    expect(page.locator("body")).to_contain_text("Sanpo partner API", timeout=20_000)
