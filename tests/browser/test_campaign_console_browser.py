"""A manager reads a sampling campaign's results in a real browser, in Japanese: a bar chart
drawn on the server for each rating and choice question, the mean rating, and the product
promoted in one step to the host's referral offer.

tests/federation/test_campaign_admin.py checks the pages through Django's test client; this
checks what a person sees and clicks."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from federation.campaigns.models import Campaign
from federation.campaigns.services import campaign_answer
from federation.referrals.models import ReferralOffer
from partners.actors import Actor
from partners.models import Partner
from tests.browser.conftest import LogIn
from tests.browser.i18n import assert_japanese_renders
from tests.factories import make_agreement, make_notice, make_partner
from tests.federation.test_campaign_promotion import promotion_terms
from tests.federation.test_campaigns import ANSWERS, SHIP, shoppers, surveying

SYSTEM = Actor.system()


@pytest.fixture
def campaign(live_url: str, settings: Any) -> Campaign:
    """Ten of the host's members answered the brand's survey, all rating it 5."""
    settings.SANPO_OVERLAP_MIN_CELL_FLOOR, settings.SANPO_OVERLAP_NOISE_SCALE = 10, 0
    host = make_partner("host-co", kind=Partner.Kind.HOST)
    brand = make_partner("brand-co")
    make_notice(
        purposes=["sampling_shipment", "research_survey", "referral_tracking"],
        recipients=[brand],
        data_items=[*SHIP, "email", "age_band", "kind"],
    )
    make_agreement(host, brand, terms=promotion_terms(host, brand))
    members = shoppers(host, 10)
    surveyed = surveying(host, brand, quantity=10)
    for member in members:
        answers = {**ANSWERS, "1": 5}
        campaign_answer(campaign=surveyed, member=member, answers=answers, actor=SYSTEM)
    return surveyed


def test_a_manager_reads_the_charts_and_promotes_the_product_in_japanese(
    page: Page, log_in: LogIn, alliance_manager: User, campaign: Campaign
) -> None:
    log_in(alliance_manager)  # the browser asks for Japanese (ja-JP)

    page.goto(f"/admin/federation/campaign/{campaign.pk}/results/")

    charts = page.locator("#campaign-charts figure.sanpo-chart")
    expect(charts).to_have_count(3)
    expect(charts.first.locator("svg")).to_be_visible()
    expect(charts.nth(2)).to_contain_text("良かった点")  # the question in Japanese
    expect(page.locator("#campaign-rating")).to_contain_text("平均評価: 5.00")
    page.get_by_label("遷移先URL").fill("https://brand.example/protein-bar")
    page.get_by_role("button", name="紹介オファーとして会員に推奨する").click()

    expect(page.locator("#campaign-promoted")).to_contain_text("として推奨済みです")
    offer = ReferralOffer.objects.get()
    assert offer.landing_url == "https://brand.example/protein-bar"
    assert offer.title_ja == campaign.name_ja
    assert_japanese_renders(page)
