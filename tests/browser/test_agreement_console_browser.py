"""An agreement's page in the alliance console, in a real browser, in Japanese and in English:
the page says which language it is in, the Japanese page keeps none of the English words the
page is written in, and its Japanese is drawn with a real font (not as boxes). A manager drafts
an agreement through the terms form, in each language, and is shown a refusal next to its input.

tests/federation/test_languages.py checks the words through Django's test client; this checks
what only a browser shows: the text a person sees (buttons and placeholders included) and the
pixels.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from federation import services
from federation.models import Agreement
from federation.services import PartyInput
from partners.actors import Actor
from partners.models import Partner
from tests.browser.conftest import LogIn, NewContext
from tests.browser.i18n import assert_japanese_renders, assert_no_english, visible_text, words_left
from tests.factories import flow, make_partner

SYSTEM = Actor.system()
TODAY = timezone.localdate()

# Every English word and phrase the agreement's page is written in (its template, its columns,
# its fields and statuses, the admin's frame around it). Data (titles, slugs, contacts, the
# terms document) is the parties' own, in whatever language they wrote it, and is not listed.
AGREEMENT_PAGE_WORDS = [
    # The agreement's fields and status.
    "Title",
    "Host",
    "Status",
    "Reason for the status",
    "Created at",
    "Updated at",
    "Active",
    "Agreement",
    "Federation",
    # Versions and signatures.
    "Versions and signatures",
    "Signed by every party",
    "Draft",
    "Edit draft",
    "Changes from",
    "Effective from",
    "Valid until",
    "Summary",
    "Drafted",
    "Proposed",
    "Signed",
    "Not proposed yet",
    "Not a party",
    "Contact",
    "Terms",
    "Compare versions",
    # The terms, read as the form lays them out.
    "Data flows",
    "Provider",
    "Recipient",
    "Purpose",
    "Member fields",
    "Legal basis",
    "Consent",
    "Cross-enrollment",
    "e-mail",
    "Coins",
    "Coin exchange",
    "Referrals",
    "Referral fee",
    "Attribution window",
    "Overlap counts",
    "Smallest cell shown",
    "members",
    # Actions.
    "Actions",
    "Propose",
    "every party is asked to sign",
    "Withdraw",
    "signatures already given lapse",
    "Suspend, because",
    "Suspend",
    "Terminate for good, because",
    "Terminate",
    "Nothing the agreement allows",
    "an open version lapses",
    # The admin's frame, with partners' part of it (the console's name, its other rooms).
    "Sanpo alliance console",
    "Partners and access",
    "API keys",
    "Home",
    "History",
    "Log out",
]


def control_words(page: Page) -> str:
    """The words of the page's buttons and empty fields, which its visible text leaves out."""
    values = page.eval_on_selector_all(
        "input[type=submit], input[type=button], input[placeholder]",
        "els => els.map(e => e.type === 'text' ? e.placeholder : e.value)",
    )
    return "\n".join(values)


# --- The agreement's page ---------------------------------------------------------------------


def _party(partner: Partner, name: str) -> PartyInput:
    return PartyInput(partner, name, f"alliance@{partner.slug}.example")


@pytest.fixture
def agreement(live_url: str) -> Agreement:
    """Kirari's agreement with Midori, v1 signed by both, and a draft v2 that adds Sora: every
    row and every state of the page, written by its parties in Japanese."""
    kirari = make_partner("kirari", kind=Partner.Kind.HOST, name_latin="Kirari Living")
    midori = make_partner("midori", name_latin="Midori Fitness")
    sora = make_partner("sora", name_latin="Sora Travel")
    parties = [_party(kirari, "山田 花子"), _party(midori, "佐藤 次郎")]
    agreement = services.agreement_create(
        title="きらり・みどり 相互送客の取り決め",
        host=kirari,
        parties=parties,
        terms={"data_flows": [flow(kirari, midori, "cross_enrollment", "name")]},
        effective_from=TODAY,
        valid_until=TODAY + timedelta(days=365),
        summary="最初の取り決め",
        actor=SYSTEM,
    )
    version = services.version_propose(version=agreement.versions.get(), actor=SYSTEM)
    for partner, signatory in ((kirari, "山田 花子"), (midori, "佐藤 次郎")):
        services.version_sign(version=version, partner=partner, signed_by=signatory, actor=SYSTEM)
    services.version_draft(
        agreement=agreement,
        parties=[*parties, _party(sora, "高橋 三郎")],
        terms={"data_flows": [flow(kirari, midori, "cross_enrollment", "name", "email")]},
        effective_from=TODAY,
        valid_until=TODAY + timedelta(days=365),
        summary="そらが加わる",
        actor=SYSTEM,
    )
    agreement.refresh_from_db()
    return agreement


def _open(page: Page, agreement: Agreement) -> None:
    page.goto(f"/admin/federation/agreement/{agreement.pk}/change/")
    expect(page.locator("#agreement-versions")).to_be_visible()


def test_the_agreement_page_in_japanese(
    page: Page, log_in: LogIn, alliance_manager: User, agreement: Agreement
) -> None:
    log_in(alliance_manager)  # the browser asks for Japanese (ja-JP)

    _open(page, agreement)

    assert page.locator("html").get_attribute("lang") == "ja"
    expect(page.get_by_role("heading", name="版と署名")).to_be_visible()
    expect(page.get_by_role("button", name="v2 を提案")).to_be_visible()
    expect(page.locator("#agreement-versions")).to_contain_text(f"{TODAY:%Y/%m/%d}")
    assert_no_english(page, AGREEMENT_PAGE_WORDS)
    assert words_left(control_words(page), AGREEMENT_PAGE_WORDS) == []
    assert_japanese_renders(page)


def test_the_agreement_page_in_english(
    new_context: NewContext, log_in: LogIn, alliance_manager: User, agreement: Agreement
) -> None:
    context = new_context(locale="en-GB")
    log_in(alliance_manager, into=context)
    page = context.new_page()

    _open(page, agreement)

    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("heading", name="Versions and signatures")).to_be_visible()
    expect(page.get_by_role("button", name="Propose v2")).to_be_visible()
    expect(page.locator("#agreement-versions")).to_contain_text(TODAY.isoformat())
    # The same list of words finds the English page's own: it is the list of this page.
    shown = words_left(f"{visible_text(page)}\n{control_words(page)}", AGREEMENT_PAGE_WORDS)
    assert shown == sorted(AGREEMENT_PAGE_WORDS)

    # The page is read-only: no empty submit row with a lone "Close" under the agreement.
    expect(page.locator(".submit-row")).to_have_count(0)


# --- Drafting an agreement through the terms form -----------------------------------------------

# Every English word of the terms form (labels, headings, units, buttons), beyond the admin's
# frame. The purpose choices show both names of a purpose, Japanese and English, by design.
TERMS_FORM_WORDS = [
    "Add agreement",
    "Version",
    "Title",
    "Host",
    "Effective from",
    "Valid until",
    "Summary",
    "Parties",
    "Company",
    "Contact name",
    "Contact e-mail",
    "Data flows",
    "Provider",
    "Recipient",
    "Member fields",
    "Legal basis",
    "Consent",
    "Joint use",
    "Joint-use notice",
    "Coins",
    # Not "Coin exchange": it is also the English name of a purpose, which the choices show.
    "Coin programs",
    "Funding per coin",
    "Referrals",
    "Referral fee",
    "Attribution window",
    "Overlap counts",
    "Smallest cell shown",
    "yen",
    "days",
    "members",
    "Save draft",
    "Please correct the errors below",
]


@pytest.fixture
def companies(live_url: str) -> tuple[Partner, Partner]:
    kirari = make_partner("kirari", kind=Partner.Kind.HOST, name_latin="Kirari Living")
    midori = make_partner("midori-fitness", name_latin="Midori Fitness")
    return kirari, midori


def _draft_through_the_form(page: Page, title: str, partner: Partner) -> None:
    """Fill the terms form as a manager does: the title, the partner's row and contacts, the
    flow's recipient and fields, and a referral fee; the recipient is chosen only after the
    first save, so that its refusal is shown first."""
    page.goto("/admin/federation/agreement/add/")
    page.fill('input[name="title"]', title)
    page.fill('input[name="parties-0-contact_name"]', "山田 花子")
    page.fill('input[name="parties-0-contact_email"]', "hanako@kirari.example")
    page.select_option('select[name="parties-1-partner"]', str(partner.pk))
    page.fill('input[name="parties-1-contact_name"]', "佐藤 次郎")
    page.fill('input[name="parties-1-contact_email"]', "jiro@midori.example")
    page.uncheck('input[name="flows-0-member_fields"][value="age_band"]')
    page.fill('input[name="referral-fee_yen"]', "800")
    page.click('input[name="_save"]')


def _recipient_refusal(page: Page) -> str:
    """The refusal shown in the cell of the first flow's recipient."""
    cell = page.locator("#data-flow-0 td").nth(1)
    expect(cell.locator(".errorlist")).to_be_visible()
    return cell.locator(".errorlist").inner_text()


def _choose_the_recipient_and_save(page: Page) -> None:
    page.select_option('select[name="flows-0-recipient"]', "midori-fitness")
    page.click('input[name="_save"]')
    expect(page.locator("#agreement-versions")).to_be_visible()


def test_a_manager_drafts_an_agreement_through_the_form_in_japanese(
    page: Page, log_in: LogIn, alliance_manager: User, companies: tuple[Partner, Partner]
) -> None:
    log_in(alliance_manager)

    _draft_through_the_form(page, "きらり・みどり 相互送客", companies[1])

    assert _recipient_refusal(page) == "提供先はこの版の当事者でなければなりません。"
    assert_no_english(page, TERMS_FORM_WORDS)
    assert words_left(control_words(page), TERMS_FORM_WORDS) == []
    # What was filled in is kept for the correction.
    expect(page.locator('input[name="referral-fee_yen"]')).to_have_value("800")
    expect(page.locator("#terms-referral .unit").first).to_have_text("円")
    _choose_the_recipient_and_save(page)

    agreement = Agreement.objects.get()
    assert agreement.versions.get().terms["data_flows"] == [
        flow(*companies, "cross_enrollment", "email", "name", legal_basis="consent")
    ]
    versions = page.locator("#agreement-versions")
    expect(versions).to_contain_text("800円")
    expect(versions).to_contain_text("相互会員登録（cross_enrollment）")  # noqa: RUF001
    expect(versions).to_contain_text("氏名、メールアドレス")
    assert_japanese_renders(page)


def test_a_manager_drafts_an_agreement_through_the_form_in_english(
    new_context: NewContext,
    log_in: LogIn,
    alliance_manager: User,
    companies: tuple[Partner, Partner],
) -> None:
    context = new_context(locale="en-GB")
    log_in(alliance_manager, into=context)
    page = context.new_page()

    _draft_through_the_form(page, "Kirari and Midori cross-enrollment", companies[1])

    assert _recipient_refusal(page) == "The recipient must be a party to this version."
    shown = words_left(f"{visible_text(page)}\n{control_words(page)}", TERMS_FORM_WORDS)
    assert shown == sorted(TERMS_FORM_WORDS)
    _choose_the_recipient_and_save(page)

    version = Agreement.objects.get().versions.get()
    assert version.terms["referral"] == {
        "fee_yen": "800",
        "fee_percent": None,
        "attribution_days": 30,
    }
    versions = page.locator("#agreement-versions")
    expect(versions).to_contain_text("¥800")
    expect(versions).to_contain_text("Cross-enrollment (cross_enrollment)")
    expect(versions).to_contain_text("name, e-mail")
