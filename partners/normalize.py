"""Normalising and validating member data as Japanese companies hold it.

Member bases arrive from many systems: full-width digits and letters, half-width katakana,
every kind of dash, ``+81`` numbers, ``2026/11/01`` dates. Everything that is compared (blind
indexes, duplicate checks, change detection) goes through these functions first, so two spellings
of one e-mail or phone number match. Each function returns the normalised value or raises
``InvalidValueError`` with a machine-readable code and a message for the person fixing the file,
in the active language.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

from django.utils.translation import gettext as _


class InvalidValueError(ValueError):
    """A value that cannot be normalised. Messages never quote the value: they end up in import
    error files and logs, where a member's personal data must not."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


PREFECTURES: tuple[tuple[str, str], ...] = (
    ("01", "北海道"), ("02", "青森県"), ("03", "岩手県"), ("04", "宮城県"), ("05", "秋田県"),
    ("06", "山形県"), ("07", "福島県"), ("08", "茨城県"), ("09", "栃木県"), ("10", "群馬県"),
    ("11", "埼玉県"), ("12", "千葉県"), ("13", "東京都"), ("14", "神奈川県"), ("15", "新潟県"),
    ("16", "富山県"), ("17", "石川県"), ("18", "福井県"), ("19", "山梨県"), ("20", "長野県"),
    ("21", "岐阜県"), ("22", "静岡県"), ("23", "愛知県"), ("24", "三重県"), ("25", "滋賀県"),
    ("26", "京都府"), ("27", "大阪府"), ("28", "兵庫県"), ("29", "奈良県"), ("30", "和歌山県"),
    ("31", "鳥取県"), ("32", "島根県"), ("33", "岡山県"), ("34", "広島県"), ("35", "山口県"),
    ("36", "徳島県"), ("37", "香川県"), ("38", "愛媛県"), ("39", "高知県"), ("40", "福岡県"),
    ("41", "佐賀県"), ("42", "長崎県"), ("43", "熊本県"), ("44", "大分県"), ("45", "宮崎県"),
    ("46", "鹿児島県"), ("47", "沖縄県"),
)  # fmt: skip
PREFECTURE_NAMES = dict(PREFECTURES)
_PREFECTURE_BY_NAME = {name: code for code, name in PREFECTURES}
# "東京" and "大阪" are written without their suffix often enough to accept.
_PREFECTURE_BY_NAME.update({name[:-1]: code for code, name in PREFECTURES if name != "北海道"})

# Hyphens, minus signs, long vowel marks and spaces that people type inside phone numbers.
_PHONE_NOISE = re.compile(r"[\s\-‐‑‒–—―−ー－ｰ().]")  # noqa: RUF001
_EMAIL = re.compile(
    r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MEMBER_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_RESERVED_NUMBERS = frozenset({"bulk"})
# Lone surrogates come from broken JSON escapes; they cannot be stored or encrypted.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SPACES = re.compile(r"\s+")


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def normalize_member_number(value: str) -> str:
    number = _nfkc(value)
    if not number:
        raise InvalidValueError("required", _("A member number is required."))
    # Member numbers travel in URL paths: letters, digits, "-", "_" and "." only.
    if len(number) > 64 or not _MEMBER_NUMBER.match(number) or number in _RESERVED_NUMBERS:
        raise InvalidValueError(
            "invalid_member_number",
            _("A member number is 1-64 letters, digits, '-', '_' or '.' (not 'bulk')."),
        )
    return number


def normalize_email(value: str) -> str:
    """Lower-case ASCII e-mail; full-width letters count as their ASCII twins."""
    email = _nfkc(value).lower()
    if len(email) > 254 or not _EMAIL.match(email) or ".." in email:
        raise InvalidValueError("invalid_email", _("This is not an e-mail address."))
    return email


def normalize_phone(value: str) -> str:
    """Domestic digits with the leading zero: ``+81 90-1234-5678`` → ``09012345678``."""
    digits = _PHONE_NOISE.sub("", _nfkc(value))
    if digits.startswith("+81"):
        digits = "0" + digits[3:].removeprefix("0")
    elif digits.startswith("0081"):
        digits = "0" + digits[4:].removeprefix("0")
    # No Japanese number starts with 00 (that is the international prefix).
    if not digits.isascii() or not digits.isdigit() or digits[:1] != "0" or digits[:2] == "00":
        raise InvalidValueError("invalid_phone", _("This is not a Japanese phone number."))
    # Mobile (070/080/090), IP (050) and 0800 numbers have 11 digits; everything else 10.
    expected = 11 if digits[:3] in ("070", "080", "090", "050") or digits[:4] == "0800" else 10
    if len(digits) != expected:
        raise InvalidValueError(
            "invalid_phone",
            _(
                "This is not a Japanese phone number: expected %(digits)d digits starting with 0 "
                "(or +81)."
            )
            % {"digits": expected},
        )
    return digits


def normalize_postal_code(value: str) -> str:
    digits = _PHONE_NOISE.sub("", _nfkc(value)).removeprefix("〒")
    if len(digits) != 7 or not digits.isascii() or not digits.isdigit():
        raise InvalidValueError("invalid_postal_code", _("This is not a 7-digit postal code."))
    return f"{digits[:3]}-{digits[3:]}"


def normalize_text(value: str, *, max_length: int = 200) -> str:
    """Names and addresses: widths unified (half-width katakana, full-width ASCII), one space."""
    text = _SPACES.sub(" ", _nfkc(value))
    if _CONTROL.search(text) or _SURROGATE.search(text):
        raise InvalidValueError("invalid_text", _("Control characters are not allowed."))
    if len(text) > max_length:
        raise InvalidValueError(
            "too_long", _("At most %(count)d characters.") % {"count": max_length}
        )
    return text


def normalize_date(value: str) -> datetime.date:
    """ISO dates, and the ``2026/11/01`` form that spreadsheets in Japan export."""
    text = _nfkc(value).replace("/", "-")
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise InvalidValueError("invalid_date", _("This is not a date (YYYY-MM-DD).")) from None


def normalize_prefecture(value: str) -> str:
    """A JIS X 0401 code from a code (``13``, ``1``) or a name (``東京都``, ``東京``)."""
    text = _nfkc(value)
    if text.isascii() and text.isdigit() and f"{int(text):02d}" in PREFECTURE_NAMES:
        return f"{int(text):02d}"
    if text in _PREFECTURE_BY_NAME:
        return _PREFECTURE_BY_NAME[text]
    raise InvalidValueError("invalid_prefecture", _("This is not a prefecture code or name."))


def prefecture_of_address(address: str) -> str | None:
    """The prefecture an address starts with, if it names one (addresses usually do)."""
    for length in (3, 4, 2):
        code = _PREFECTURE_BY_NAME.get(address[:length])
        if code is not None and PREFECTURE_NAMES[code] == address[: len(PREFECTURE_NAMES[code])]:
            return code
    return None


def age_band(birth_year: int | None, *, today: datetime.date) -> str | None:
    """Ten-year band (``30-39``) from the year of birth: coarse enough to share."""
    if birth_year is None:
        return None
    age = today.year - birth_year
    if age < 20:
        return "under-20"
    if age >= 80:
        return "80+"
    low = age // 10 * 10
    return f"{low}-{low + 9}"


_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


def whole_number(raw: str | None) -> int | None:
    """``raw`` as a whole number if it is one to nine ASCII digits, else None. Not
    ``str.isdigit``: it also accepts digits such as "²" that ``int`` refuses."""
    if raw is None or not _WHOLE_NUMBER.fullmatch(raw):
        return None
    return int(raw)
