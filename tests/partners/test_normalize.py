# Full-width letters, digits and signs are the test data here: they are what people type.
# ruff: noqa: RUF001
"""Normalising member data as Japanese companies hold it: every spelling of one e-mail, phone
number, postal code, date or prefecture becomes one value, and anything else is refused with a
code a person fixing the file can act on."""

import datetime

import pytest
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from partners.normalize import (
    InvalidValueError,
    age_band,
    normalize_date,
    normalize_email,
    normalize_member_number,
    normalize_phone,
    normalize_postal_code,
    normalize_prefecture,
    normalize_text,
    prefecture_of_address,
)

# Deterministic and without an example database on disk: the same run in CI and on a laptop.
property_test = hypothesis_settings(derandomize=True, database=None, max_examples=300)


def _refused(func: object, value: str) -> InvalidValueError:
    with pytest.raises(InvalidValueError) as caught:
        func(value)  # type: ignore[operator]
    return caught.value


# --- E-mail ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "hanako.sato@example.jp",
        "Hanako.Sato@Example.JP",
        "  hanako.sato@example.jp\t",
        "ｈａｎａｋｏ．ｓａｔｏ＠ｅｘａｍｐｌｅ．ｊｐ",  # full-width, as IME input often is
        "ＨＡＮＡＫＯ.sato＠example.jp",
    ],
)
def test_every_spelling_of_an_email_is_one_address(raw: str) -> None:
    assert normalize_email(raw) == "hanako.sato@example.jp"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "hanako",
        "hanako@",
        "@example.jp",
        "hanako@@example.jp",
        "hanako..sato@example.jp",
        "hanako@example",
        "hanako@-example.jp",
        "hanako sato@example.jp",
        "はなこ@example.jp",
        "a" * 250 + "@example.jp",
    ],
)
def test_what_is_not_an_email_is_refused(raw: str) -> None:
    assert _refused(normalize_email, raw).code == "invalid_email"


@property_test
@given(st.emails())
def test_normalising_an_email_twice_changes_nothing(email: str) -> None:
    try:
        once = normalize_email(email)
    except InvalidValueError:
        return
    assert normalize_email(once) == once


# --- Phone ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "090-1234-5678",
        "09012345678",
        "090 1234 5678",
        "090　1234　5678",  # ideographic spaces
        "(090) 1234-5678",
        "090.1234.5678",
        "090‐1234‐5678",  # U+2010 hyphen
        "090‑1234‑5678",  # U+2011 non-breaking hyphen
        "090‒1234‒5678",  # U+2012 figure dash
        "090–1234–5678",  # U+2013 en dash
        "090—1234—5678",  # U+2014 em dash
        "090―1234―5678",  # U+2015 horizontal bar
        "090−1234−5678",  # U+2212 minus sign
        "090ー1234ー5678",  # katakana long vowel mark, a common IME slip
        "090ｰ1234ｰ5678",  # half-width long vowel mark
        "０９０－１２３４－５６７８",  # full-width digits and hyphen
        "＋８１　９０－１２３４－５６７８",
        "+81 90-1234-5678",
        "+81-90-1234-5678",
        "+819012345678",
        "+81 (0)90-1234-5678",
        "+81 090 1234 5678",
        "0081 90 1234 5678",
        "0081-090-1234-5678",
        "0081(0)90-1234-5678",
    ],
)
def test_every_spelling_of_a_mobile_number_is_one_number(raw: str) -> None:
    assert normalize_phone(raw) == "09012345678"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("03-1234-5678", "0312345678"),
        ("(03) 1234-5678", "0312345678"),
        ("０３（１２３４）５６７８", "0312345678"),
        ("+81 3-1234-5678", "0312345678"),
        ("+81 (0)3 1234 5678", "0312345678"),
        ("0081 3 1234 5678", "0312345678"),
        ("0120-123-456", "0120123456"),  # toll free, 10 digits
        ("0800-123-4567", "08001234567"),  # toll free, 11 digits
        ("050-1234-5678", "05012345678"),  # IP phone
        ("070-1234-5678", "07012345678"),
        ("080-1234-5678", "08012345678"),
    ],
)
def test_landline_toll_free_and_ip_numbers_keep_their_own_length(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "090-1234-567",  # a mobile number needs 11 digits
        "080-123-4567",
        "0800-123-456",
        "03-1234-56789",  # a landline number has 10
        "03-1234-567",
        "+81 90-1234-567",
        "90-1234-5678",  # no trunk zero and no +81
        "81-90-1234-5678",
        "090-abcd-5678",
        "090-1234-5678 ext. 12",
        "TEL 090-1234-5678",
        "",
        "+81",
        "٠٩٠١٢٣٤٥٦٧٨",  # Arabic-Indic digits are digits, but not a Japanese number
    ],
)
def test_what_is_not_a_japanese_phone_number_is_refused(raw: str) -> None:
    error = _refused(normalize_phone, raw)
    assert error.code == "invalid_phone"
    assert repr(raw) not in error.message  # messages never quote personal data


def test_a_wrong_length_names_the_length_expected() -> None:
    assert "expected 11 digits" in _refused(normalize_phone, "090-1234-567").message
    assert "expected 10 digits" in _refused(normalize_phone, "03-1234-56789").message


_SEPARATORS = st.sampled_from(["", "-", " ", "－", "ー", "−", "‐", "(", ")", ".", "　"])
_PREFIXES = st.sampled_from(["", "+81", "+81 ", "+81(0)", "0081", "0081-", "＋８１"])


@st.composite
def _phone_like(draw: st.DrawFn) -> str:
    groups = draw(st.lists(st.text("0123456789０１２３４５６７８９", min_size=1), max_size=5))
    text = draw(_PREFIXES)
    for group in groups:
        text += draw(_SEPARATORS) + group
    return text


@property_test
@given(_phone_like())
# A domestic number never starts with 00 (the international prefix), so "+81 0081…" is not a
# Japanese number; if it is accepted at all it must come back unchanged when normalised again,
# because stored values are re-validated whenever a member is updated.
@example("+81 0081-23-4567")
def test_normalising_a_phone_number_twice_changes_nothing(raw: str) -> None:
    try:
        once = normalize_phone(raw)
    except InvalidValueError:
        return
    assert once.isascii()
    assert once.isdigit()
    assert once.startswith("0")
    assert normalize_phone(once) == once


# --- Postal code, member number, text -------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "150-0002",
        "1500002",
        "〒150-0002",
        "〒 150-0002",
        "〒１５０－０００２",
        "１５００００２",
        "〶150-0002",
    ],
)
def test_every_spelling_of_a_postal_code_is_one_code(raw: str) -> None:
    assert normalize_postal_code(raw) == "150-0002"


@pytest.mark.parametrize("raw", ["150-000", "150-00022", "ABC-DEFG", "", "〒", "150-000a"])
def test_what_is_not_a_postal_code_is_refused(raw: str) -> None:
    assert _refused(normalize_postal_code, raw).code == "invalid_postal_code"


def test_member_numbers_are_unified_in_width_and_refused_with_spaces_or_controls() -> None:
    assert normalize_member_number(" Ｍ００１ ") == "M001"
    assert _refused(normalize_member_number, "  ").code == "required"
    assert _refused(normalize_member_number, "M 001").code == "invalid_member_number"
    assert _refused(normalize_member_number, "M\x00001").code == "invalid_member_number"
    # Member numbers travel in URL paths: no slashes, no percent signs, and not the word "bulk".
    for raw in ("A/1", "A%2F1", "bulk", "-1", "x" * 65):
        assert _refused(normalize_member_number, raw).code == "invalid_member_number"
    assert normalize_member_number("K-2026.001_a") == "K-2026.001_a"
    assert _refused(normalize_member_number, "M" * 65).code == "invalid_member_number"
    assert normalize_member_number("M" * 64) == "M" * 64


def test_text_unifies_widths_and_spaces_and_refuses_control_characters() -> None:
    assert normalize_text("ｻﾄｳ　ﾊﾅｺ") == "サトウ ハナコ"
    assert normalize_text("  Ｓａｔｏ   Hanako\n") == "Sato Hanako"
    assert _refused(normalize_text, "佐藤\x00花子").code == "invalid_text"
    assert _refused(lambda v: normalize_text(v, max_length=3), "佐藤花子").code == "too_long"


# --- Dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["2026-11-01", "2026/11/01", "２０２６／１１／０１", " 2026-11-01 "]
)
def test_iso_and_spreadsheet_dates_are_one_date(raw: str) -> None:
    assert normalize_date(raw) == datetime.date(2026, 11, 1)


@pytest.mark.parametrize(
    "raw",
    ["2026-13-01", "2026/02/30", "2026.11.01", "令和8年11月1日", "11/01/2026", "", "tomorrow"],
)
def test_what_is_not_a_date_is_refused(raw: str) -> None:
    assert _refused(normalize_date, raw).code == "invalid_date"


# --- Prefectures ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("13", "13"),
        ("1", "01"),
        ("01", "01"),
        ("１３", "13"),
        ("47", "47"),
        ("東京都", "13"),
        ("東京", "13"),
        ("北海道", "01"),
        ("京都府", "26"),
        ("京都", "26"),
        ("神奈川県", "14"),
        ("神奈川", "14"),
        ("大阪", "27"),
        ("鹿児島県", "46"),
    ],
)
def test_a_prefecture_is_found_by_code_name_or_short_name(raw: str, code: str) -> None:
    assert normalize_prefecture(raw) == code


@pytest.mark.parametrize("raw", ["0", "48", "99", "北海", "東京府", "Tokyo", "", "都"])
def test_what_is_not_a_prefecture_is_refused(raw: str) -> None:
    assert _refused(normalize_prefecture, raw).code == "invalid_prefecture"


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("東京都渋谷区神南1-2-3", "13"),
        ("北海道札幌市中央区北1条西2丁目", "01"),
        ("神奈川県横浜市中区本町1-1", "14"),
        ("京都府京都市左京区1-1", "26"),
        ("和歌山県和歌山市1-1", "30"),
        ("鹿児島県鹿児島市1-1", "46"),
        ("大阪府大阪市北区1-1", "27"),
    ],
)
def test_the_prefecture_an_address_starts_with(address: str, code: str) -> None:
    assert prefecture_of_address(address) == code


@pytest.mark.parametrize(
    "address",
    [
        "京都市左京区1-1",  # the city of Kyoto, prefecture not written
        "東京渋谷区1-1",  # no 都: not the prefecture's name
        "渋谷区神南1-2-3",
        "港区東京都1-1",  # names a prefecture, but not at the start
        "",
    ],
)
def test_an_address_that_does_not_start_with_a_prefecture_has_none(address: str) -> None:
    assert prefecture_of_address(address) is None


# --- Age bands ------------------------------------------------------------------------------

TODAY = datetime.date(2026, 11, 1)


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (0, "under-20"),
        (19, "under-20"),
        (20, "20-29"),
        (29, "20-29"),
        (30, "30-39"),
        (39, "30-39"),
        (79, "70-79"),
        (80, "80+"),
        (104, "80+"),
    ],
)
def test_age_bands_are_ten_years_wide_from_twenty_to_eighty(age: int, band: str) -> None:
    assert age_band(TODAY.year - age, today=TODAY) == band


def test_an_unknown_birth_year_has_no_age_band() -> None:
    assert age_band(None, today=TODAY) is None
