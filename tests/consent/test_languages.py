"""Consent in Japanese and in English: the names of what the record holds, the API's error
messages, the compliance pages and their CSV files, and the member's preference page.

The suite reads English unless a test asks (tests/conftest.py); these tests ask for Japanese.
"""

from typing import Any

import pytest
from django.utils import translation

from consent.models import DataSubjectRequest, Purpose
from consent.names import DATA_ITEM_NAMES, data_item_name, partner_name
from federation.agreements.terms import FLOW_FIELDS
from partners.member_columns import PERSONAL_FIELDS
from partners.models import Partner

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
