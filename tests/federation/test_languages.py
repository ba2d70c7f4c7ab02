"""The federation in Japanese and English: the partner API's messages in the language
Accept-Language asks for (codes and statuses unchanged), and the names people read (statuses,
audit actions, error labels) in both languages."""

import re
from typing import Any

import pytest
from django.utils import translation

from federation import services
from federation.audit import FederationAuditAction
from federation.errors import FederationErrorCode
from federation.models import Agreement, Enrollment, OverlapVisibility
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import Partner
from tests.conftest import Key, client_for
from tests.factories import flow, make_agreement, make_member

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
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
