# Japanese is written with full-width brackets: they are the text the pages show.
# ruff: noqa: RUF001
"""The federation in Japanese and English: the partner API's messages in the language
Accept-Language asks for (codes and statuses unchanged), the names people read (statuses, audit
actions, error labels), and the alliance managers' console, in both languages."""

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone, translation

from federation import services
from federation.audit import FederationAuditAction
from federation.errors import FederationErrorCode
from federation.models import Agreement, Enrollment, OverlapVisibility
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import Partner
from tests.conftest import Key, client_for
from tests.factories import flow, make_agreement, make_member, make_parties

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
TODAY = timezone.localdate()
JAPANESE = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")  # kana and kanji


def test_the_names_people_read_are_in_both_languages() -> None:
    names: list[Any] = [
        Agreement.Status.ACTIVE.label,
        Agreement._meta.verbose_name,
        Enrollment.Status.CONFIRMED.label,
        OverlapVisibility.Level.COUNTS.label,
        FederationAuditAction.AGREEMENT_SIGNED.label,
        FederationErrorCode.NO_AGREEMENT.label,
    ]
    with translation.override("en"):
        english = [str(name) for name in names]
    with translation.override("ja"):
        japanese = [str(name) for name in names]

    assert english == [
        "Active",
        "agreement",
        "Confirmed by the target",
        "Counts only",
        "Agreement version signed by a party",
        "No active agreement between these companies allows this.",
    ]
    assert japanese == [
        "有効",
        "提携契約",
        "入会先企業が確認済み",
        "件数のみ",
        "当事者が提携契約の版に署名",
        "これらの企業の間に、これを認める有効な提携契約はありません。",
    ]


# --- The partner API: the same refusal in the language asked for ------------------------------


def _ask(key: Key, method: str, path: str, language: str, body: Any = None) -> Any:
    client = client_for(key)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.plaintext}", HTTP_ACCEPT_LANGUAGE=language)
    return getattr(client, method)(path, body, format="json")


def _in_both(key: Key, method: str, path: str, body: Any = None) -> tuple[Any, Any]:
    english, japanese = (_ask(key, method, path, lang, body) for lang in ("en", "ja"))
    assert english["Content-Language"] == "en"
    assert japanese["Content-Language"] == "ja"
    assert japanese.status_code == english.status_code
    assert japanese.json()["error"]["code"] == english.json()["error"]["code"]
    english_message = english.json()["error"]["message"]
    japanese_message = japanese.json()["error"]["message"]
    assert not JAPANESE.search(english_message), english_message
    assert JAPANESE.search(japanese_message), japanese_message
    return english, japanese


def test_no_agreement_is_refused_in_the_language_asked_for(
    host: Partner, partner: Partner, partner_key: Key
) -> None:
    # An agreement for cross-enrollment only: none lets the host show the brand overlap counts.
    make_agreement(
        host, partner, terms={"data_flows": [flow(host, partner, "cross_enrollment", "name")]}
    )

    english, japanese = _in_both(partner_key, "get", f"/api/v1/overlap?other={host.slug}")

    assert english.status_code == 403
    assert english.json()["error"]["code"] == "no_agreement"
    assert english.json()["error"]["message"] == (
        f"No active agreement lets {host.slug} share overlap counts with {partner.slug}."
    )
    assert japanese.json()["error"]["message"] == (
        f"{host.slug} が {partner.slug} に会員の重なりの件数を示すことを認める有効な提携契約は"
        "ありません。"
    )


def test_an_enrollment_without_an_agreement_is_refused_in_the_language_asked_for(
    host: Partner, partner: Partner, outsider: Partner, partner_key: Key
) -> None:
    make_member(partner, "B-1")

    english, japanese = _in_both(
        partner_key,
        "post",
        "/api/v1/enrollments",
        {"member_number": "B-1", "target": outsider.slug},
    )

    assert english.status_code == 403
    assert english.json()["error"]["code"] == "no_agreement"
    assert (
        "相互入会させることを認める有効な提携契約はありません"
        in japanese.json()["error"]["message"]
    )


def test_a_signature_of_a_withdrawn_version_is_refused_in_the_language_asked_for(
    host: Partner, partner: Partner, partner_key: Key
) -> None:
    terms = {"data_flows": [flow(host, partner, "cross_enrollment", "name")]}
    agreement = make_agreement(host, partner, terms=terms, state="proposed")
    services.version_withdraw(version=agreement.versions.get(), actor=SYSTEM)
    path = f"/api/v1/agreements/{agreement.pk}/versions/1/sign"

    english, japanese = _in_both(partner_key, "post", path, {"signed_by": "山田 太郎"})

    assert english.status_code == 409
    assert english.json()["error"]["code"] == "conflict"
    assert english.json()["error"]["message"] == "This version is not awaiting signatures."
    assert japanese.json()["error"]["message"] == "この版は署名を待っていません。"


def test_a_version_that_is_no_number_is_refused_in_the_language_asked_for(
    host: Partner, partner: Partner, partner_key: Key
) -> None:
    terms = {"data_flows": [flow(host, partner, "cross_enrollment", "name")]}
    agreement = make_agreement(host, partner, terms=terms, state="proposed")
    path = f"/api/v1/agreements/{agreement.pk}/versions/+1/sign"

    english, japanese = _in_both(partner_key, "post", path, {"signed_by": "山田 太郎"})

    assert english.status_code == 404
    assert english.json()["error"]["code"] == "not_found"
    assert "agreement version" in english.json()["error"]["message"]
    assert "提携契約の版" in japanese.json()["error"]["message"]


def test_an_overlap_question_refused_by_the_disclosure_rule_in_the_language_asked_for(
    host: Partner, partner_key: Key
) -> None:
    sliced = f"/api/v1/overlap?other={host.slug}&breakdown=age_band&prefecture=13"
    crossed = f"/api/v1/overlap?other={host.slug}&breakdown=age_band&breakdown=kind"

    for path in (sliced, crossed):
        english, japanese = _in_both(partner_key, "get", path)
        assert english.status_code == 400
        assert english.json()["error"]["code"] == "disclosure_refused"
    assert japanese.json()["error"]["message"] == (
        "内訳は一度に1つだけです。2つを掛け合わせると、伏せた件数がわかるおそれがあります。"
    )


def test_the_terms_are_checked_in_the_managers_language(host: Partner, partner: Partner) -> None:
    bad = {"data_flows": [flow(host, partner, "no_such_purpose", "shoe_size")], "extra": 1}
    with translation.override("ja"), pytest.raises(ApplicationError) as refused:
        make_agreement(host, partner, terms=bad, state="draft")

    assert refused.value.fields == {
        "terms.data_flows[0].fields": ["不明な項目です: shoe_size。"],
        "terms.data_flows[0].purpose": ["この利用目的はありません。"],
        "terms.extra": ["契約条件にない項目です。"],
    }


def test_why_a_batch_stopped_is_stored_in_english_whatever_the_task_speaks(
    host: Partner, partner: Partner, agreement: Agreement
) -> None:
    # Stored and read by both companies through the API: in the API's default language, even
    # when the worker runs in the default language of people (Japanese).
    batch = services.enrollment_batch_start(
        source=host, target=partner, member_numbers=["K-1"], fields=None, actor=SYSTEM
    )
    services.agreement_suspend(agreement=agreement, reason="Review", actor=SYSTEM)

    with translation.override("ja"):
        batch = services.enrollment_batch_run(batch=batch)

    assert batch.error == (
        f"No active agreement lets {host.slug} enroll its members with {partner.slug}."
    )


# --- The alliance managers' console -------------------------------------------------------------


def _console(user: User, language: str) -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


def _visible(response: Any) -> str:
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", response.content.decode())
    return re.sub(r"\s+", " ", re.sub(r"(?s)<[^>]+>", " ", html))


@pytest.fixture
def amended(host: Partner, partner: Partner, outsider: Partner) -> Agreement:
    """An active agreement (v1, signed by both) with a draft v2 that adds the outsider."""
    agreement = make_agreement(
        host, partner, terms={"data_flows": [flow(host, partner, "cross_enrollment", "name")]}
    )
    services.version_draft(
        agreement=agreement,
        parties=make_parties(host, partner, outsider),
        terms={"data_flows": [flow(host, partner, "cross_enrollment", "name", "email")]},
        effective_from=TODAY,
        valid_until=TODAY + timedelta(days=30),
        summary="Outsider joins.",
        actor=SYSTEM,
    )
    return agreement


def test_the_agreement_page_speaks_the_managers_language(
    alliance_manager: User, amended: Agreement
) -> None:
    page = f"/admin/federation/agreement/{amended.pk}/change/"

    japanese = _console(alliance_manager, "ja").get(page)
    english = _console(alliance_manager, "en").get(page)

    assert japanese["Content-Language"] == "ja"
    assert '<html lang="ja"' in japanese.content.decode()
    shown = _visible(japanese)
    for words in ("版と署名", "全当事者が署名済み", "未提案", "当事者ではない", "担当者:", "操作"):
        assert words in shown
    assert "下書き v2 を提案します" in shown
    assert TODAY.strftime("%Y/%m/%d") in shown  # the Japanese short date
    for words in ("Versions and signatures", "Not proposed yet", "Contact:", "Actions"):
        assert words not in shown
    english_shown = _visible(english)
    assert "Versions and signatures" in english_shown
    assert "Not proposed yet" in english_shown
    assert "outsider-co株式会社" in shown  # each party, as each language writes its name
    assert "Outsider Co" in english_shown
    assert TODAY.isoformat() in english_shown


def test_the_list_and_the_diff_speak_the_managers_language(
    alliance_manager: User, amended: Agreement
) -> None:
    console = _console(alliance_manager, "ja")

    listed = _visible(console.get("/admin/federation/agreement/"))
    diff = _visible(console.get(f"/admin/federation/agreement/{amended.pk}/diff/"))

    until = TODAY + timedelta(days=365)
    assert f"v1（{until:%Y/%m/%d}まで）" in listed
    assert "v2: 下書き" in listed
    for words in (
        "本日有効な版",
        "当事者（最新の版）",
        "進行中の版",
        "入会済み",
        "当事者 で絞り込む",
    ):
        assert words in listed
    assert "host-co株式会社" in listed  # the host, as Japanese writes its name
    assert "Host Co" not in listed
    assert "版の間の変更" in diff
    assert "提携契約に戻る" in diff


def test_the_actions_answer_in_the_managers_language(
    alliance_manager: User, amended: Agreement
) -> None:
    console = _console(alliance_manager, "ja")
    act = f"/admin/federation/agreement/{amended.pk}/act/"

    proposed = console.post(act + "propose/", {"version": 2}, follow=True)
    refused = console.post(act + "resume/", follow=True)

    assert [str(m) for m in proposed.context["messages"]] == [
        "v2 を提案しました。すべての当事者に署名を依頼しています。"
    ]
    assert [str(m) for m in refused.context["messages"]] == [
        "「有効」の提携契約を「有効」にすることはできません。"
    ]


def test_the_terms_form_shows_its_errors_in_the_managers_language(
    alliance_manager: User, amended: Agreement, host: Partner, partner: Partner
) -> None:
    form = {
        "effective_from": (TODAY - timedelta(days=1)).isoformat(),
        "valid_until": TODAY.isoformat(),
        "terms": json.dumps({"data_flows": [flow(host, partner, "cross_enrollment", "shoe")]}),
        "parties-TOTAL_FORMS": "1",
        "parties-INITIAL_FORMS": "0",
        "parties-0-partner": str(host.pk),
        "parties-0-contact_name": "",
        "parties-0-contact_email": "",
    }
    edit = f"/admin/federation/agreement/{amended.pk}/versions/2/edit/"

    response = _console(alliance_manager, "ja").post(edit, form)

    assert response.status_code == 200
    shown = _visible(response)
    assert "下のエラーを修正してください。何も保存されていません。" in shown
    assert response.context["formset"].forms[0].errors == {
        "contact_name": ["当事者の担当者を入力してください。"],
        "contact_email": ["当事者の担当者を入力してください。"],
    }
    assert "Please correct" not in shown
