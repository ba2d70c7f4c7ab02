"""The member's preference page in a real browser: the member opens the signed link the host's
portal gave them, reads who may use which data for what, in Japanese or English, and withdraws
one consent with one click; on a phone too. A bad link shows an error page and nothing else.

tests/consent/test_preference_page.py covers the rules through Django's test client; these
tests cover what only a browser does: following the page's own links and form (its relative
URLs, the CSRF cookie and the headers a browser sends), and laying the page out on a screen.
"""

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from consent.models import Purpose, WithdrawalNotice
from consent.preference_page.views import TOKYO
from consent.selectors import consent_check
from consent.services import consent_grant
from partners.actors import Actor
from partners.models import MemberAccount, Partner
from partners.services import member_create
from tests.browser.conftest import NewContext
from tests.browser.i18n import (
    assert_japanese_renders,
    assert_no_english,
    visible_text,
    words_left,
)
from tests.conftest import Key, client_for
from tests.factories import make_notice

PHONE = {"width": 390, "height": 844}  # an iPhone 12 to 15 in portrait, in CSS pixels


@pytest.fixture
def hanako(host: Partner, partner: Partner) -> MemberAccount:
    """A host member who agreed to share her name and e-mail with the brand for two purposes."""
    notice = make_notice(
        text="氏名とメールアドレスを提携先に提供します。",
        purposes=["profile_sharing", "co_marketing_contact"],
        recipients=[partner],
        data_items=["name", "email"],
        effective_at=timezone.now() - timedelta(days=3),
    )
    member = member_create(
        partner=host,
        values={"member_number": "K-1", "kind": "household", "name": "佐藤 花子"},
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
    return member


def _link(host_key: Key, number: str) -> str:
    """The path of the link the host's portal asks the API for."""
    response = client_for(host_key).post(f"/api/v1/members/{number}/preference-link")
    assert response.status_code == 201, response.content
    return urlsplit(response.json()["url"]).path


def _field(card: Locator, label: str) -> str:
    """The value a consent's card shows under ``label``."""
    term = card.locator("dt", has_text=re.compile(rf"^{re.escape(label)}$"))
    value = term.locator("xpath=following-sibling::dd[1]")
    return value.inner_text().strip()


def test_the_member_reads_their_consents_in_japanese_then_switches_to_english(
    page: Page, hanako: MemberAccount, host_key: Key, partner: Partner
) -> None:
    page.goto(_link(host_key, "K-1"))

    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("情報の提供先と利用目的")
    cards = page.locator("section.consent")
    expect(cards).to_have_count(2)
    for purpose in ("会員情報の共有", "共同販促のご案内"):
        card = cards.filter(has_text=purpose)
        assert _field(card, "提供先") == partner.name_ja
        assert _field(card, "利用目的") == purpose
        assert set(_field(card, "提供する情報").split("、")) == {"氏名", "メールアドレス"}
        assert _field(card, "有効期限") == "撤回するまで"
        description = Purpose.objects.get(name_ja=purpose).description_ja
        assert _field(card, "提供先での利用内容") == description
        expect(card.get_by_role("button", name="同意を撤回する")).to_be_visible()

    page.get_by_role("link", name="English").click()

    expect(page).to_have_url(re.compile(r"/preferences/[^/]+/\?lang=en$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Who may use your data, and for what")
    expect(cards).to_have_count(2)
    for purpose in ("Profile sharing", "Co-marketing contact"):
        card = cards.filter(has_text=purpose)
        assert _field(card, "Company") == partner.name_latin
        assert _field(card, "Purpose") == purpose
        assert set(_field(card, "Data provided").split(", ")) == {"name", "e-mail"}
        assert _field(card, "Valid until") == "until you withdraw"
        description = Purpose.objects.get(name_en=purpose).description_en
        assert _field(card, "What it does with your data") == description
        expect(card.get_by_role("button", name="Withdraw consent")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(partner.name_ja)
    expect(page.get_by_role("link", name="日本語")).to_be_visible()


def test_the_member_withdraws_one_consent_and_sees_when_in_both_languages(
    page: Page, hanako: MemberAccount, host_key: Key, partner: Partner
) -> None:
    page.goto(_link(host_key, "K-1"))
    cards = page.locator("section.consent")
    expect(cards).to_have_count(2)
    history = page.locator("section.withdrawals")
    expect(history).to_contain_text("撤回した同意はありません。")

    button = cards.filter(has_text="共同販促のご案内").get_by_role("button", name="同意を撤回する")
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        button.click()

    assert posted.value.status == 302, f"the withdraw form answered {posted.value.status}"
    notice = WithdrawalNotice.objects.select_related("event").get()  # the brand is told
    event = notice.event
    at = timezone.localtime(event.occurred_at, TOKYO)
    expect(page).to_have_url(re.compile(rf"/preferences/[^/]+/\?lang=ja&withdrawn={event.pk}$"))
    expect(page.get_by_role("status")).to_have_text(
        re.compile(
            rf"同意を撤回しました。{partner.name_ja}は今後、「共同販促のご案内」のために"
            rf"あなたの情報を利用できません。\s*撤回日時：{at:%Y/%m/%d %H:%M}（日本時間）。"  # noqa: RUF001
            "提供先にもすぐに通知されます。"
        )
    )
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("会員情報の共有")
    entry = history.get_by_role("listitem")
    expect(entry).to_have_count(1)
    expect(entry).to_have_text(
        re.compile(
            rf"{at:%Y/%m/%d %H:%M}\s*{partner.name_ja}：「共同販促のご案内」"  # noqa: RUF001
            "（撤回の受付：会員の同意設定ページ）"  # noqa: RUF001
        )
    )
    withdrawn = consent_check(
        member_id=hanako.pk, purpose_code="co_marketing_contact", recipient=partner
    )
    kept = consent_check(member_id=hanako.pk, purpose_code="profile_sharing", recipient=partner)
    assert (withdrawn.allowed, withdrawn.reason) == (False, "withdrawn")
    assert (kept.allowed, kept.reason) == (True, "consented")
    assert notice.recipient == partner
    assert event.member_id == hanako.pk
    assert event.purpose_id == "co_marketing_contact"
    assert event.channel == "preference_page"

    # A reload confirms the same withdrawal and withdraws nothing more.
    page.reload()
    expect(page.get_by_role("status")).to_contain_text(f"{at:%Y/%m/%d %H:%M}")
    assert WithdrawalNotice.objects.count() == 1

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(history.get_by_role("heading")).to_have_text("Your withdrawals")
    expect(entry).to_have_text(
        re.compile(
            rf"{at:%Y-%m-%d %H:%M}\s*{partner.name_latin}: “Co-marketing contact” "
            r"\(withdrawn through: Preference page\)"
        )
    )
    expect(cards).to_have_count(1)
    expect(page.locator("body")).not_to_contain_text(partner.name_ja)


@pytest.mark.parametrize("damage", ["tampered", "expired"])
def test_a_bad_link_shows_an_error_page_and_no_consents(
    page: Page,
    hanako: MemberAccount,
    host_key: Key,
    partner: Partner,
    damage: str,
    settings: Any,
) -> None:
    if damage == "expired":
        lifetime = settings.SANPO_PREFERENCE_LINK_HOURS * 3600
        issued_at = int(timezone.now().timestamp()) - lifetime - 60
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(
                signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(issued_at)
            )
            link = _link(host_key, "K-1")
    else:
        link = _link(host_key, "K-1")
        flipped = "A" if link[-2] != "A" else "B"  # the signature's last character
        link = link[:-2] + flipped + "/"

    response = page.goto(link)

    assert response is not None
    assert response.status == 404
    expect(page.locator("body")).not_to_be_empty()
    expect(page.locator("body")).not_to_contain_text(partner.name_ja)
    expect(page.locator("body")).not_to_contain_text("会員情報の共有")
    expect(page.locator("form")).to_have_count(0)


def test_the_page_fits_a_phone_screen(
    new_context: NewContext, hanako: MemberAccount, host_key: Key
) -> None:
    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3)
    page = phone.new_page()
    link = _link(host_key, "K-1")

    for language in ("ja", "en"):
        page.goto(f"{link}?lang={language}")
        expect(page.locator("section.consent")).to_have_count(2)

        scroll_width, client_width = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        # A page without a viewport meta tag is laid out 980 px wide and shrunk to fit.
        assert client_width == PHONE["width"], language
        assert scroll_width <= client_width, f"{language}: scrolls sideways"
        for button in page.get_by_role("button").all():
            box = button.bounding_box()
            assert box is not None
            assert box["x"] >= 0, language
            assert box["x"] + box["width"] <= PHONE["width"], language


# What the page says in English, and in Japanese.
ENGLISH_WORDS = [
    *("Who may use your data", "These companies may use", "Company", "Purpose"),
    *("Data provided", "Valid until", "until you withdraw", "Withdraw consent"),
    *("Profile sharing", "Co-marketing contact", "name", "e-mail"),
    *("What it does with your data", "Your withdrawals", "You have not withdrawn"),
    *("Who received your data", "No company has received", "Privacy notice", "Version"),
    *("Read the privacy notice", "Times are Japan time"),
]
JAPANESE_WORDS = [
    *("情報の提供先と利用目的", "提供先", "利用目的", "提供する情報", "有効期限"),
    *("撤回するまで", "同意を撤回する", "会員情報の共有", "共同販促のご案内", "氏名"),
    *("提供先での利用内容", "撤回の履歴", "撤回した同意はありません", "提供記録"),
    *("プライバシー通知", "日本時間"),
]


def test_the_member_reads_the_page_on_a_phone_in_japanese_and_in_english(
    new_context: NewContext, hanako: MemberAccount, host_key: Key, partner: Partner
) -> None:
    # A phone whose browser asks for English: the page still follows the link's language.
    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    page = phone.new_page()
    link = _link(host_key, "K-1")

    page.goto(link)
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("情報の提供先と利用目的")
    expect(page.locator("section.consent")).to_have_count(2)
    assert_no_english(page, ENGLISH_WORDS)
    assert_japanese_renders(page)

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Who may use your data, and for what")
    expect(page.locator("section.consent")).to_have_count(2)
    assert words_left(visible_text(page), JAPANESE_WORDS) == []
    expect(page.locator("body")).not_to_contain_text(partner.name_ja)
