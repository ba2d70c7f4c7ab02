"""The alliance dashboard in a real browser, in Japanese and in English: an alliance manager
signs in and the admin index opens on the alliance's figures; every chart is drawn (its SVG
takes room on the screen, its bars and lines too), its numbers are in a table under it, and
the Japanese page names the months and the figures in Japanese, drawn with a real font.

tests/federation/test_dashboard.py checks each figure through Django's test client; this
checks what only a browser shows: that the charts draw, at a size a person can read."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from consent.services import consent_withdraw
from partners.actors import Actor
from partners.models import Partner
from tests.browser.conftest import NewContext
from tests.browser.i18n import assert_japanese_renders, assert_no_english
from tests.factories import grant_consent, make_member, make_notice

SYSTEM = Actor.system()
DEMO_PASSWORD = "correct horse battery staple"  # the factories' password for every user

# The English words of the dashboard: headings, headlines, chart titles, legends, notes.
DASHBOARD_WORDS = [
    "The alliance at a glance",
    "Last 30 days",
    "Last 12 months",
    "Members",
    "Member accounts",
    "Members per company",
    "Active",
    "Inactive",
    "Enrollments over time",
    "Requested",
    "Confirmed",
    "Consents granted and withdrawn",
    "Consents granted and withdrawn per purpose",
    "Granted",
    "Withdrawn",
    "Counted by when the member said so.",
    "Withdrawal acknowledgements",
    "Unacknowledged",
    "Overdue",
    "Data-subject requests",
    "Open data-subject requests by deadline",
    "Webhook deliveries",
    "Webhook success rate",
    "Success rate",
    "Nothing to show.",
    "Figures",
]


@pytest.fixture
def alliance(host: Partner, partner: Partner) -> None:
    """Members of two companies, consents granted last month and today, one withdrawn."""
    make_notice(
        purposes=["profile_sharing", "co_marketing_contact"],
        recipients=[partner],
        data_items=["name"],
        effective_at=timezone.now() - timedelta(days=90),
    )
    for n in range(5):
        member = make_member(host, f"H-{n}")
        grant_consent(
            member,
            partner,
            "profile_sharing",
            occurred_at=timezone.now() - timedelta(days=35 * (n % 2)),
        )
    make_member(partner, "B-1")
    consent_withdraw(
        member=member,
        purpose_code="profile_sharing",
        recipient=partner,
        channel="host_portal",
        occurred_at=timezone.now(),
        actor=SYSTEM,
    )


def sign_in(page: Page, user: User) -> None:
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator(".alliance-dashboard-figures")).to_be_visible()


def assert_charts_draw(page: Page) -> None:
    charts = page.locator("svg.sanpo-chart-svg")
    expect(charts).to_have_count(7)
    for index in range(charts.count()):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None
        assert box["width"] > 200
        assert box["height"] > 20
    # Drawn, not just framed: the bars of the members and the consents take room.
    members = page.locator("#dashboard-members svg rect.segment").first
    box = members.bounding_box()
    assert box is not None
    assert box["width"] > 10
    assert box["height"] > 5
    assert page.locator("#dashboard-consents svg rect.segment").count() >= 3
    # The numbers are under each chart, in a table a person can select and copy.
    expect(page.locator("#dashboard-members table.sanpo-chart-table")).to_be_visible()


def test_a_manager_signs_in_and_the_dashboard_draws_in_english(
    new_context: NewContext, alliance_manager: User, alliance: None
) -> None:
    page = new_context(locale="en-US").new_page()
    sign_in(page, alliance_manager)

    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_charts_draw(page)
    members = page.locator("#dashboard-members")
    expect(members.locator("dd").first).to_have_text("6")
    expect(members.locator("table")).to_contain_text("Host Co")
    this_month = timezone.localdate()
    expect(page.locator("#dashboard-consents table").first).to_contain_text(
        this_month.strftime("%b %Y")
    )
    page.click("text=Last 30 days")
    expect(page).to_have_url(page.url.split("?")[0] + "?period=30d")
    # The new page, loaded: the switch marks the period it shows.
    expect(page.locator(".period a[aria-current='true']")).to_have_text("Last 30 days")
    assert_charts_draw(page)
    # The app list is still on the index, under the figures.
    expect(page.locator("#content-main .app-partners")).to_be_visible()


def test_a_manager_signs_in_and_the_dashboard_draws_in_japanese(
    new_context: NewContext, alliance_manager: User, alliance: None
) -> None:
    page = new_context(locale="ja-JP").new_page()
    sign_in(page, alliance_manager)

    expect(page.locator("html")).to_have_attribute("lang", "ja")
    assert_charts_draw(page)
    expect(page.locator("#alliance-dashboard-heading")).to_have_text("アライアンスの概況")
    this_month = timezone.localdate()
    expect(page.locator("#dashboard-consents table").first).to_contain_text(
        f"{this_month.year}年{this_month.month}月"
    )
    expect(page.locator("#dashboard-members table")).to_contain_text("host-co株式会社")
    assert_no_english(page, DASHBOARD_WORDS)
    assert_japanese_renders(page)
