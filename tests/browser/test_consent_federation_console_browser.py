"""A manager's first look at a campaign and at a new privacy notice, in a real browser, in
Japanese: the enrollment batch page says why each number was or was not enrolled, and the
notice preview says what the new version changes for members.

tests/federation/test_enrollment_admin.py and tests/consent/test_consent_admin.py check the
pages through Django's test client; this checks what a person sees and clicks.
"""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from federation import services
from federation.models import EnrollmentBatch
from partners.actors import Actor
from partners.models import Partner
from tests.browser.conftest import LogIn
from tests.browser.i18n import assert_japanese_renders
from tests.factories import (
    flow,
    grant_consent,
    make_agreement,
    make_member,
    make_notice,
    make_partner,
)

SYSTEM = Actor.system()


@pytest.fixture
def companies(live_url: str) -> tuple[Partner, Partner]:
    """Kirari (the host) may give Midori its members for cross-enrollment, under notice v1."""
    kirari = make_partner("kirari", kind=Partner.Kind.HOST, name_latin="Kirari Living")
    midori = make_partner("midori", name_latin="Midori Fitness", name_ja="みどりフィットネス")
    make_notice(
        text="氏名を提携先に提供します。",
        purposes=["cross_enrollment", "profile_sharing"],
        recipients=[midori],
        data_items=["name"],
    )
    terms = {"data_flows": [flow(kirari, midori, "cross_enrollment", "name")]}
    make_agreement(kirari, midori, title="きらり・みどり", terms=terms)
    return kirari, midori


@pytest.fixture
def batch(companies: tuple[Partner, Partner]) -> EnrollmentBatch:
    kirari, midori = companies
    yes = make_member(kirari, "KR-1", name="山本 さくら")
    grant_consent(yes, midori, "cross_enrollment", "profile_sharing")
    make_member(kirari, "KR-2", name="中村 悠")
    started = services.enrollment_batch_start(
        source=kirari,
        target=midori,
        member_numbers=["KR-1", "KR-2", "KR-9"],
        fields=["name"],
        actor=SYSTEM,
    )
    return services.enrollment_batch_run(batch=started)


def test_a_manager_reads_a_campaigns_outcomes_in_japanese(
    page: Page, log_in: LogIn, alliance_manager: User, batch: EnrollmentBatch
) -> None:
    log_in(alliance_manager)  # the browser asks for Japanese (ja-JP)

    page.goto(f"/admin/federation/enrollmentbatch/{batch.pk}/change/")

    outcomes = page.locator("#batch-outcomes")
    expect(outcomes.get_by_role("heading", name="会員番号ごとの結果")).to_be_visible()
    expect(outcomes.locator("tr", has_text="KR-1")).to_contain_text(
        "この一括処理で相互入会しました"
    )
    expect(outcomes.locator("tr", has_text="KR-2")).to_contain_text(
        "会員は提供先との相互入会に同意していません"
    )
    expect(outcomes.locator("tr", has_text="KR-9")).to_contain_text(
        "この番号の会員は提供元にいません"
    )
    expect(page.locator("body")).not_to_contain_text("山本")  # no personal data
    assert_japanese_renders(page)


def test_a_manager_previews_a_new_notice_in_japanese(
    page: Page, log_in: LogIn, alliance_manager: User, companies: tuple[Partner, Partner]
) -> None:
    log_in(alliance_manager)
    page.goto("/admin/consent/privacynotice/")
    page.get_by_role("link", name="新しい版を公開").click()

    page.locator(".field-data_items").get_by_label("メールアドレス", exact=True).check()
    page.fill("#id_text", "氏名とメールアドレスを提携先に提供します。")
    page.get_by_role("button", name="変更点をプレビュー").click()

    preview = page.locator("#notice-preview")
    expect(preview.get_by_role("heading", name="会員にとっての変更点")).to_be_visible()
    expect(preview.locator("#change-data-items")).to_contain_text("メールアドレス")
    expect(preview.locator("#consents-do-not-carry-over")).to_be_visible()
    expect(preview.locator("#change-text")).to_contain_text(
        "+ 氏名とメールアドレスを提携先に提供します。"
    )
    expect(page.get_by_role("button", name="この版を公開")).to_be_visible()
    assert_japanese_renders(page)
