"""The metrics dashboard in a real browser, in English and Japanese, on a phone-sized screen
too: every chart is drawn (its SVG takes room, its lines and bars too, and a screenshot of it
holds the series' colours, not just a blank frame), the numbers are in tables under the
charts, and the lift's intervals are drawn for a company with a holdout.

tests/federation/test_metrics_admin.py checks the figures through Django's test client."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from federation.metrics.models import DailyFigure
from partners.models import Partner
from tests.browser.conftest import NewContext
from tests.browser.i18n import assert_japanese_renders, assert_no_english
from tests.browser.test_dashboard_browser import DEMO_PASSWORD
from tests.federation.test_metrics import _alliance

DASHBOARD = "/admin/federation/dailyfigure/dashboard/"
WORDS = [
    "Active and dormant members",
    "Coins issued, spent and expired",
    "Referral clicks and conversions",
    "Coins spent between companies",
    "Measured lift of the reactivation bonus",
    "The whole alliance",
]
# The palette's first colour (partners.charts.base.PALETTE), which the first series draws in.
BLUE = (0, 114, 178)


@pytest.fixture
def figures(host: Partner, partner: Partner) -> None:
    today = timezone.localdate()
    for back in range(60):
        day = today - timedelta(days=back)
        for metric, value in (("members_active", 50 + back % 7), ("members_dormant", 9)):
            DailyFigure.objects.create(day=day, metric=metric, company=host, value=value)
        DailyFigure.objects.create(
            day=day, metric="coins_spent", company=host, counterparty=partner, value=12
        )
        DailyFigure.objects.create(day=day, metric="coins_issued", company=partner, value=30)


def _open(page: Page, user: User, query: str = "") -> None:
    page.goto(f"/admin/login/?next={DASHBOARD}{query}")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator(".metrics-dashboard")).to_be_visible()


def _coloured_share(png: bytes, colour: tuple[int, int, int]) -> float:
    """The pixels of ``colour`` in a chart's screenshot, in legend swatches (10 by 10 in the
    chart's 640-wide drawing): a swatch alone is 1, a line across the chart about 12."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    swatch = 100 * (image.width / 640) ** 2
    found = 0
    for count, pixel in image.getcolors(maxcolors=1 << 24) or []:
        assert isinstance(pixel, tuple)
        if all(abs(a - b) < 40 for a, b in zip(pixel, colour, strict=True)):
            found += count
    return found / swatch


def _assert_charts_draw(page: Page) -> None:
    charts = page.locator("svg.sanpo-chart-svg")
    expect(charts).to_have_count(6)
    for index in range(charts.count()):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        assert box is not None
        assert box["width"] > 200
        assert box["height"] > 20
    members = page.locator("#metrics-members svg")
    members.scroll_into_view_if_needed()
    assert page.locator("#metrics-members svg polyline.line").count() == 2
    # The pixels say it: the first series' line is drawn in its colour, not only its swatch.
    assert _coloured_share(members.screenshot(animations="disabled"), BLUE) > 5
    expect(page.locator("#metrics-members table.sanpo-chart-table")).to_be_visible()
    expect(page.locator("#metrics-flows table")).to_contain_text("brand-co")


@pytest.mark.usefixtures("figures")
def test_the_dashboard_draws_in_english(new_context: NewContext, alliance_manager: User) -> None:
    page = new_context(locale="en-US").new_page()
    _open(page, alliance_manager)
    _assert_charts_draw(page)
    page.select_option("select[name=grain]", "month")
    page.click("input[type=submit][value=Show]")
    expect(page).to_have_url(re.compile(r"grain=month"))
    _assert_charts_draw(page)


@pytest.mark.usefixtures("figures")
def test_the_dashboard_draws_in_japanese_on_a_phone(
    new_context: NewContext, alliance_manager: User
) -> None:
    page = new_context(locale="ja-JP", viewport={"width": 390, "height": 844}).new_page()
    _open(page, alliance_manager)
    _assert_charts_draw(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    chart = page.locator("#metrics-members svg").bounding_box()
    assert chart is not None
    assert chart["width"] <= 390  # the chart fits the phone's width
    assert width <= 420  # no page wider than the screen, bar the admin's own margins
    assert_no_english(page, WORDS)
    assert_japanese_renders(page)


def test_the_lift_intervals_draw(
    new_context: NewContext, alliance_manager: User, host: Partner
) -> None:
    _alliance(host, 1200, treated=0.4, held=0.1, seed=2)
    page = new_context(locale="en-US").new_page()
    _open(page, alliance_manager, "?company=host-co&from=2026-09-01&to=2026-09-30")
    intervals = page.locator("svg.lift-interval")
    expect(intervals).to_have_count(5)
    first = intervals.first
    first.scroll_into_view_if_needed()
    box = page.locator("svg.lift-interval line.interval").first.bounding_box()
    assert box is not None
    assert box["width"] > 5
