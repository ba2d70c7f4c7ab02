"""Consent in Japanese and in English: the names of what the record holds, the API's error
messages, the compliance pages and their CSV files, and the member's preference page.

The suite reads English unless a test asks (tests/conftest.py); these tests ask for Japanese.
"""

from typing import Any

import pytest
from django.utils import timezone, translation

from consent.models import ConsentEvent, DataSubjectRequest, Purpose
from consent.names import DATA_ITEM_NAMES, data_item_name, partner_name
from federation.agreements.terms import FLOW_FIELDS
from partners.member_columns import PERSONAL_FIELDS
from partners.models import Partner
from tests.conftest import Key, client_for
from tests.factories import make_member, make_notice

pytestmark = pytest.mark.django_db


# --- Names ------------------------------------------------------------------------------------


def test_every_data_item_a_notice_or_a_flow_may_name_has_a_name_in_both_languages() -> None:
    assert set(PERSONAL_FIELDS) | set(FLOW_FIELDS) <= set(DATA_ITEM_NAMES)
    for code in DATA_ITEM_NAMES:
        with translation.override("en"):
            english = data_item_name(code)
        with translation.override("ja"):
            japanese = data_item_name(code)
        assert english != japanese, code
        assert english.isascii(), code
        assert not japanese.isascii(), code


@pytest.mark.parametrize(
    ("code", "english", "japanese"),
    [
        ("email", "e-mail", "メールアドレス"),
        ("age_band", "age band", "年代"),
        ("kind", "member type", "会員区分"),
    ],
)
def test_a_data_item_is_named_in_the_active_language(
    code: str, english: str, japanese: str
) -> None:
    with translation.override("en"):
        assert data_item_name(code) == english
    with translation.override("ja"):
        assert data_item_name(code) == japanese
    assert data_item_name("not_named_yet") == "not_named_yet"


def test_purposes_partners_and_choices_are_named_in_the_active_language(partner: Partner) -> None:
    purpose = Purpose.objects.get(code="profile_sharing")
    with translation.override("ja"):
        assert purpose.display_name == purpose.name_ja == "会員情報の共有"
        assert partner_name(partner) == partner.name_ja
        assert DataSubjectRequest.Kind.ERASURE.label == "削除"
        assert str(DataSubjectRequest._meta.verbose_name) == "本人からの請求"
    with translation.override("en"):
        assert purpose.display_name == purpose.name_en == "Profile sharing"
        assert partner_name(partner) == partner.name_latin
        assert DataSubjectRequest.Kind.ERASURE.label == "Erasure"


# --- The API: error messages in the language asked for, codes and statuses unchanged ------------


def _post(key: Key, path: str, body: dict[str, Any], language: str) -> Any:
    client = client_for(key)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.plaintext}", HTTP_ACCEPT_LANGUAGE=language)
    return client.post(path, body, format="json")


def _same_error_in_both_languages(
    key: Key, path: str, body: dict[str, Any], *, status: int, code: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The error of the same request asked in English and in Japanese: the same status, code and
    fields, each answer saying which language it is in."""
    english, japanese = (_post(key, path, body, language) for language in ("en", "ja"))
    for response, language in ((english, "en"), (japanese, "ja")):
        assert response.status_code == status, response.content
        assert response["Content-Language"] == language
        assert response.json()["error"]["code"] == code
    errors = english.json()["error"], japanese.json()["error"]
    assert set(errors[0]) == set(errors[1])
    assert set(errors[0].get("fields", {})) == set(errors[1].get("fields", {}))
    return errors


def test_a_brand_recording_for_another_recipient_is_refused_in_either_language(
    partner_key: Key, partner: Partner, host: Partner
) -> None:
    notice = make_notice(purposes=["cross_enrollment"], recipients=[host], data_items=["name"])
    make_member(partner, "BC-1")
    body = {
        "purpose": "cross_enrollment",
        "recipient": host.slug,
        "notice": str(notice.pk),
        "channel": "partner_app",
        "occurred_at": timezone.now().isoformat(),
    }

    english, japanese = _same_error_in_both_languages(
        partner_key,
        "/api/v1/members/BC-1/consents",
        body,
        status=403,
        code="permission_denied",
    )

    assert "itself as the recipient" in english["message"]
    assert "ホスト企業のポータル" in japanese["message"]
    assert ConsentEvent.objects.count() == 0


def test_an_identity_that_does_not_match_is_refused_in_either_language(
    host_key: Key, host: Partner
) -> None:
    make_member(host, "K-1", email="hanako@example.jp", phone="090-1111-2222")
    body = {"kind": "access", "identity": {"email": "hanako@example.jp", "phone": "090-0000-0000"}}

    english, japanese = _same_error_in_both_languages(
        host_key,
        "/api/v1/members/K-1/data-requests",
        body,
        status=403,
        code="identity_not_verified",
    )

    assert "does not match the member's record" in english["message"]
    assert japanese["message"] == "本人確認情報が会員の記録と一致しません。何も処理していません。"
    assert DataSubjectRequest.objects.count() == 0


def test_a_field_error_is_in_the_language_asked_for_under_its_unchanged_field(
    host_key: Key, host: Partner
) -> None:
    make_member(host, "K-1")
    body = {"purpose": "no_such_purpose", "members": ["K-1"]}

    english, japanese = _same_error_in_both_languages(
        host_key, "/api/v1/consent/check", body, status=400, code="validation_failed"
    )

    assert english["fields"]["purpose"] == ["There is no purpose 'no_such_purpose'."]
    assert japanese["fields"]["purpose"] == ["利用目的 'no_such_purpose' はありません。"]


def test_the_api_documentation_of_consent_rows_stays_english_whatever_the_language() -> None:
    from drf_spectacular.generators import SchemaGenerator

    def components(language: str) -> dict[str, Any]:
        with translation.override(language):
            schema = SchemaGenerator().get_schema(request=None, public=True)
        return {
            name: schema["components"]["schemas"][name]
            for name in ("PurposeOutput", "NoticeOutput", "ConsentEventOutput", "DataRequestOutput")
        }

    japanese, english = components("ja"), components("en")

    assert japanese == english
    occurred_at = english["ConsentEventOutput"]["properties"]["occurred_at"]
    assert occurred_at["description"] == "When the member said so (aware, any zone)."
    assert "title" not in occurred_at
