"""The alliance console in a real browser, in Japanese and in English: the admin index and a
member account's page show the partners app's words in the reader's language (``<html lang>``
says which), none left in English on the Japanese page, and Japanese drawn with real glyphs;
the header's language switch works without JavaScript and is remembered for the person.

tests/partners/test_console_languages.py checks every console page through Django's test
client; these tests check what only a browser shows: the visible text, and the pixels.
"""

from collections.abc import Iterable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from partners.models import MemberAccount, Partner, StaffPreference
from tests.browser.conftest import LogIn, NewContext
from tests.browser.i18n import assert_japanese_renders, assert_no_english, words_left
from tests.factories import make_member


def assert_shows_all(page: Page, words: Iterable[str]) -> None:
    """The English page does show every word the Japanese one must not: the list is right."""
    words = list(words)
    missing = sorted(set(words) - set(words_left(page.inner_text("body"), words)))
    assert not missing, f"{page.url}: not on the English page: {missing}"


# --- The pages and their English words ------------------------------------------------------

INDEX_WORDS = [
    "Sanpo alliance console",
    "Alliance management",
    "Partners and access",
    "API keys",
    "Audit events",
    "Member accounts",
    "Member imports",
    "Partners",
    "Persons",
    "Staff roles",
    "Webhook deliveries",
    "Webhook endpoints",
]
MEMBER_WORDS = [
    "Member account",
    "Show personal data",
    "Partner",
    "Member number",
    "Kind",
    "Household",
    "Status",
    "Active",
    "Person",
    "Created at",
    "Updated at",
    "Personal data (stored encrypted)",
    "Not shown here",
    "Name",
    "Name (kana)",
    "E-mail",
    "Phone",
    "Postal code",
    "Address",
    "Birth date",
    "Remove",
    "Segment (stored in clear)",
    "Prefecture",
    "Birth year",
    "Joined on",
    "Last active on",
]


@pytest.fixture
def member(partner: Partner) -> MemberAccount:
    return make_member(partner, "M-0001", name="山田 花子", address="東京都千代田区1-1")


def _member_url(member: MemberAccount) -> str:
    return f"/admin/partners/memberaccount/{member.pk}/change/"


@pytest.mark.parametrize(
    ("url", "words"),
    [("/admin/", INDEX_WORDS), ("member", MEMBER_WORDS)],
    ids=["index", "member account"],
)
def test_the_console_in_japanese_leaves_no_english_and_draws_its_glyphs(
    new_context: NewContext,
    log_in: LogIn,
    alliance_manager: User,
    member: MemberAccount,
    url: str,
    words: list[str],
) -> None:
    url = _member_url(member) if url == "member" else url
    english = new_context(locale="en-US").new_page()
    log_in(alliance_manager, into=english.context)
    english.goto(url)
    expect(english.locator("html")).to_have_attribute("lang", "en")
    assert_shows_all(english, words)

    japanese = new_context(locale="ja-JP").new_page()
    log_in(alliance_manager, into=japanese.context)
    japanese.goto(url)

    expect(japanese.locator("html")).to_have_attribute("lang", "ja")
    assert_no_english(japanese, words)
    assert_japanese_renders(japanese)


def test_the_member_page_names_kind_status_and_prefecture_in_japanese(
    page: Page, log_in: LogIn, alliance_manager: User, member: MemberAccount
) -> None:
    log_in(alliance_manager)
    page.goto(_member_url(member))

    expect(page.locator(".field-kind select option:checked")).to_have_text("個人")
    expect(page.locator(".field-status select option:checked")).to_have_text("有効")
    expect(page.locator(".field-prefecture select option:checked")).to_have_text("13 東京都")
    expect(page.get_by_role("link", name="個人情報を表示")).to_be_visible()


def test_the_switch_works_without_javascript_and_follows_the_person(
    new_context: NewContext, log_in: LogIn, alliance_manager: User, member: MemberAccount
) -> None:
    laptop = new_context(locale="ja-JP", java_script_enabled=False).new_page()
    log_in(alliance_manager, into=laptop.context)
    laptop.goto(_member_url(member))
    expect(laptop.locator("html")).to_have_attribute("lang", "ja")

    laptop.get_by_role("button", name="English").click()

    expect(laptop.locator("html")).to_have_attribute("lang", "en")
    assert laptop.url.endswith(_member_url(member))  # back on the same page
    expect(laptop.get_by_role("link", name="Show personal data")).to_be_visible()
    expect(laptop.get_by_role("button", name="English")).to_be_disabled()
    assert StaffPreference.objects.get(user=alliance_manager).language == "en"

    phone = new_context(locale="ja-JP").new_page()  # another device, a Japanese browser
    log_in(alliance_manager, into=phone.context)
    phone.goto("/admin/")
    expect(phone.locator("html")).to_have_attribute("lang", "en")

    phone.get_by_role("button", name="日本語").click()
    expect(phone.locator("html")).to_have_attribute("lang", "ja")
    expect(phone.get_by_role("link", name="会員アカウント").first).to_be_visible()


def test_the_log_in_page_offers_the_switch(page: Page) -> None:
    page.goto("/admin/login/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    assert_no_english(page, ["Sanpo alliance console", "Log in", "Username", "Password"])

    page.get_by_role("button", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_text("Sanpo alliance console")).to_be_visible()
