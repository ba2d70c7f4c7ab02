"""The compliance pages in a real browser: a reviewer logs in through the form, finds a member
by e-mail (which stays out of the address bar) and downloads the results, reads the consent
timeline, reveals the personal data for a reason and downloads a CSV; partner staff who log in
are refused; and the member page fits a phone.

tests/consent/test_compliance_pages.py covers the rules through Django's test client; these
tests cover what only a browser does: the log-in and CSRF cookies, following the pages' own
links and forms, a download, and the layout on a small screen.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from consent.models import DataSubjectRequest
from consent.services import chains_verify_all, consent_grant, consent_withdraw
from partners.actors import Actor
from partners.models import AuditEvent, MemberAccount, Partner
from partners.services import member_create
from tests.browser.conftest import LogIn, NewContext
from tests.browser.i18n import (
    assert_japanese_renders,
    assert_no_english,
    visible_text,
    words_left,
)
from tests.factories import make_notice

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
NAME = "佐藤 花子"
EMAIL = "hanako.sato@example.jp"
PHONE = {"width": 390, "height": 844}  # an iPhone 12 to 15 in portrait, in CSS pixels
ENGLISH = "en-GB"  # a reviewer whose browser asks for English; Japanese is the default


@pytest.fixture
def context(new_context: NewContext) -> BrowserContext:
    """The tests below read the pages in English; the tests of Japanese ask for it."""
    return new_context(locale=ENGLISH)


@pytest.fixture
def hanako(host: Partner, partner: Partner) -> MemberAccount:
    """A host member who consented to the brand for two purposes and withdrew one."""
    notice = make_notice(
        text="氏名とメールアドレスを提携先に提供します。",
        purposes=["profile_sharing", "co_marketing_contact"],
        recipients=[partner],
        data_items=["name", "email"],
        effective_at=timezone.now() - timedelta(days=3),
    )
    member = member_create(
        partner=host,
        values={"member_number": "K-1", "kind": "household", "name": NAME, "email": EMAIL},
        actor=Actor.system(),
    )
    for purpose in ("profile_sharing", "co_marketing_contact"):
        consent_grant(
            member=member,
            purpose_code=purpose,
            recipient=partner,
            notice=notice,
            channel="host_portal",
            occurred_at=timezone.now() - timedelta(days=1),
            actor=Actor.system(),
        )
    consent_withdraw(
        member=member,
        purpose_code="co_marketing_contact",
        recipient=partner,
        channel="preference_page",
        occurred_at=timezone.now() - timedelta(minutes=5),
        actor=Actor.system(),
    )
    return member


def _log_in_through_the_form(page: Page, username: str) -> None:
    page.goto("/compliance/")
    expect(page).to_have_url(re.compile(r"/compliance/login/\?next=/compliance/$"))
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_reviewer_finds_a_member_reads_the_record_reveals_and_exports(
    page: Page, hanako: MemberAccount, compliance_reviewer: User
) -> None:
    _log_in_through_the_form(page, compliance_reviewer.username)
    expect(page.get_by_role("heading", level=1)).to_have_text("Compliance dashboard")

    page.get_by_role("link", name="Find a member").click()
    page.get_by_label("Member number, e-mail or phone").fill(EMAIL.upper())
    page.get_by_role("button", name="Search").click()
    results = page.locator("table tbody tr")
    expect(results).to_have_count(1)
    expect(results).to_contain_text("Host Co")
    expect(page).to_have_url(re.compile(r"/compliance/search/$"))
    assert EMAIL.lower() not in page.url.lower()

    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download CSV").click()
    found = downloading.value
    assert found.suggested_filename.startswith("sanpo-member-search-")
    assert "hanako" not in found.suggested_filename.lower()
    text = Path(found.path()).read_bytes().decode("utf-8-sig")
    assert text.splitlines()[1:] == ["host-co,Host Co,K-1,household,active"]
    assert EMAIL.lower() not in page.url.lower()

    results.get_by_role("link", name="K-1").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Member K-1")
    timeline = page.get_by_role("region", name="Consent timeline").locator("tbody tr")
    expect(timeline).to_have_count(3)
    expect(timeline.nth(0)).to_contain_text("Granted")
    expect(timeline.nth(2)).to_contain_text("Withdrawn")
    expect(timeline.nth(2)).to_contain_text("Preference page")
    personal = page.get_by_role("region", name="Personal data")
    expect(personal).to_contain_text("●●●● (hidden)")
    expect(personal).not_to_contain_text(NAME)

    personal.get_by_label("Reason").fill("inquiry 2026-042")
    personal.get_by_role("button", name="Reveal personal data").click()

    expect(page.get_by_role("region", name="Personal data")).to_contain_text(NAME)
    viewed = AuditEvent.objects.get(action=AuditEvent.Action.MEMBER_PERSONAL_DATA_VIEWED)
    assert viewed.actor_user_id == compliance_reviewer.pk
    assert viewed.object_id == str(hanako.pk)
    assert viewed.detail["purpose"] == "compliance review: inquiry 2026-042"

    region = page.get_by_role("region", name="Consent timeline")
    with page.expect_download() as downloading:
        region.get_by_role("link", name="Download CSV").click()
    download = downloading.value
    assert download.suggested_filename.startswith("sanpo-consent-timeline-host-co-K-1-")
    assert download.suggested_filename.endswith(".csv")
    raw = Path(download.path()).read_bytes()
    assert raw.startswith("\ufeff".encode())
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("sequence,occurred_at,recorded_at,purpose,recipient,action")
    assert [line.split(",")[5] for line in lines[1:]] == ["granted", "granted", "withdrawn"]
    assert NAME not in raw.decode("utf-8-sig")
    assert EMAIL not in raw.decode("utf-8-sig")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/compliance/login/$"))


def test_partner_staff_who_log_in_are_refused(page: Page, partner_admin: User) -> None:
    _log_in_through_the_form(page, partner_admin.username)

    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    response = page.goto("/compliance/search/")
    assert response is not None
    assert response.status == 403
    expect(page.locator("body")).to_contain_text("only for compliance reviewers")


def test_the_member_page_fits_a_phone(
    new_context: NewContext, log_in: LogIn, hanako: MemberAccount, compliance_reviewer: User
) -> None:
    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale=ENGLISH)
    log_in(compliance_reviewer, into=phone)
    page = phone.new_page()

    page.goto(f"/compliance/members/{hanako.pk}/")

    expect(page.get_by_role("heading", level=1)).to_contain_text("Member K-1")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
    # Tables become one card per row: the values stacked, each labelled by a CSS ::before.
    timeline = page.get_by_role("region", name="Consent timeline")
    expect(timeline.locator("thead")).to_be_hidden()
    cells = timeline.locator("tbody tr").first.locator("td")
    number, occurred = cells.nth(0).bounding_box(), cells.nth(1).bounding_box()
    assert number is not None
    assert occurred is not None
    assert occurred["y"] > number["y"]
    assert occurred["x"] == number["x"]
    label = cells.nth(3).evaluate("cell => getComputedStyle(cell, '::before').content")
    assert label == '"Purpose: "'


# --- In Japanese and in English ------------------------------------------------------------------

# What the dashboard and the member page say in English, in the words a reviewer reads there.
DASHBOARD_WORDS = [
    *("Sanpo compliance", "Dashboard", "Find a member", "Overdue acknowledgements"),
    *("Chain verification", "Data-subject requests", "Log out", "Compliance dashboard"),
    *("Consents by recipient and purpose", "Recipient", "Purpose", "Consented", "Withdrawn"),
    *("Expired", "Download CSV", "Withdrawal acknowledgements", "None overdue", "overdue"),
    *("Consent chain verification", "Started", "Finished", "Chains checked", "Events checked"),
    *("Broken chains", "none", "Open data-subject requests", "open", "Received", "Member"),
    *("Kind", "Status", "Due", "Completed", "Deadline", "Verified", "in progress", "Access"),
    *("All open requests", "All requests", "Times are Japan time", "Read-only record"),
    *("Profile sharing", "Co-marketing contact"),
]
MEMBER_WORDS = [
    *("Member", "Account", "Partner", "Member number", "Kind", "Status", "Joined"),
    *("Last active", "Prefecture", "Birth year", "Member id", "Personal data", "Name"),
    *("Name (kana)", "E-mail", "Phone", "Postal code", "Address", "Date of birth", "hidden"),
    *("Reason", "recorded in the audit log", "Reveal personal data", "For example"),
    *("Consent chain", "Intact", "Every event matches", "Consent timeline", "Occurred"),
    *("Recorded", "Purpose", "Recipient", "Action", "Channel", "Captured by", "Notice"),
    *("Expires", "Jurisdiction", "Hash", "Granted", "Withdrawn", "Host portal"),
    *("Preference page", "Current consents", "Since", "consented", "withdrawn"),
    *("Notice in force", "yes", "Event #", "Provision records", "No provisions recorded"),
    *("Withdrawals sent to recipients", "Pseudonym", "Created", "Last sent", "Times sent"),
    *("Acknowledged", "waiting", "Data-subject requests", "No requests", "Download CSV"),
    *("Profile sharing", "Co-marketing contact"),
]
# What the same pages say in Japanese.
JAPANESE_WORDS = [
    *("コンプライアンス", "ダッシュボード", "会員を探す", "提供先", "利用目的", "同意中"),
    *("撤回", "期限切れ", "本人からの請求", "ログアウト", "会員情報の共有", "個人情報"),
]


@pytest.fixture
def record(hanako: MemberAccount, host: Partner) -> MemberAccount:
    """Hanako's consents, a verified chain, and an access request of hers still open."""
    chains_verify_all()
    DataSubjectRequest.objects.create(
        member=hanako,
        kind=DataSubjectRequest.Kind.ACCESS,
        due_at=timezone.now() + timedelta(days=20),
        received_via=host,
        requested_by="host portal",
        verified_with=["birth_date", "email"],
    )
    return hanako


def test_a_reviewer_reads_the_dashboard_and_a_member_in_japanese_by_default(
    new_context: NewContext, log_in: LogIn, record: MemberAccount, compliance_reviewer: User
) -> None:
    japanese = new_context(locale="ja-JP")
    log_in(compliance_reviewer, into=japanese)
    page = japanese.new_page()

    page.goto("/compliance/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("コンプライアンス ダッシュボード")
    expect(page.get_by_role("table").first).to_contain_text("会員情報の共有")
    assert_no_english(page, DASHBOARD_WORDS)
    assert_japanese_renders(page)

    page.get_by_role("link", name="K-1").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("会員 K-1")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    timeline = page.get_by_role("region", name="同意の履歴").locator("tbody tr")
    expect(timeline.nth(2)).to_contain_text("撤回")
    expect(timeline.nth(2)).to_contain_text("会員の同意設定ページ")
    assert_no_english(page, MEMBER_WORDS)
    assert_japanese_renders(page)

    # The switch in the header: the same page, now in English, and it stays so.
    member_url = page.url
    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(member_url)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Member K-1")
    assert words_left(visible_text(page), JAPANESE_WORDS) == []
    page.goto("/compliance/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Compliance dashboard")


def test_a_reviewer_whose_browser_asks_for_english_reads_english_and_can_switch(
    page: Page, log_in: LogIn, record: MemberAccount, compliance_reviewer: User
) -> None:
    log_in(compliance_reviewer)

    page.goto(f"/compliance/members/{record.pk}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Member K-1")
    expect(page.get_by_role("region", name="Consent timeline")).to_contain_text("Profile sharing")
    assert words_left(visible_text(page), JAPANESE_WORDS) == []

    page.goto("/compliance/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Compliance dashboard")
    assert words_left(visible_text(page), JAPANESE_WORDS) == []

    page.get_by_role("button", name="日本語").click()
    expect(page).to_have_url(re.compile(r"/compliance/$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    assert_no_english(page, DASHBOARD_WORDS)
    assert_japanese_renders(page)
