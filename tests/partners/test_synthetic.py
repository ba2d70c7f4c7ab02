"""The synthetic member base: deterministic, streaming, cp932-safe, fictional, and able to share
people with another base (``overlap_with``) without generating that base."""

import csv
import datetime
import io
import json
import re
import time
import tracemalloc
import types
import unicodedata
from collections import Counter
from itertools import islice
from pathlib import Path

import pytest

from partners.synthetic import (
    COLUMNS,
    DEFAULT_TODAY,
    PREFECTURES,
    synthetic_members,
    write_csv,
    write_jsonl,
)

EXAMPLE_DOMAINS = {"example.jp", "example.com", "example.ne.jp", "example.co.jp"}
KATAKANA = re.compile(r"[\u30a1-\u30fa\u30fc]+")
LEGAL_FORMS = ("株式会社", "有限会社", "合同会社")


def _rows(count: int = 3000, **kwargs: object) -> list[dict[str, str]]:
    return list(synthetic_members(count=count, **kwargs))  # type: ignore[arg-type]


def _email_key(email: str) -> str:
    return unicodedata.normalize("NFKC", email).lower()


def _phone_key(phone: str) -> str:
    digits = unicodedata.normalize("NFKC", phone).replace("-", "").replace(" ", "")
    return "0" + digits[3:] if digits.startswith("+81") else digits


def _age(birth: datetime.date, today: datetime.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


class _Sink:
    """A binary file that only counts what it is given."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return _rows(20_000, seed=11)


def test_rows_have_exactly_the_columns_all_strings(rows: list[dict[str, str]]) -> None:
    assert COLUMNS[0] == "member_number"
    assert len(COLUMNS) == 13
    for row in rows:
        assert tuple(row) == COLUMNS
        assert all(isinstance(value, str) for value in row.values())


def test_same_seed_gives_same_rows_and_other_seed_differs() -> None:
    assert _rows(500, seed=7) == _rows(500, seed=7)
    assert _rows(500, seed=7, overlap_with=8) == _rows(500, seed=7, overlap_with=8)
    assert _rows(500, seed=7) != _rows(500, seed=8)
    assert _rows(500, seed=-7) != _rows(500, seed=7)
    # A longer run starts with the shorter one: rows do not depend on count.
    assert _rows(1000, seed=7)[:500] == _rows(500, seed=7)


def test_member_numbers_are_unique_ordered_and_prefixed() -> None:
    numbers = [row["member_number"] for row in _rows(2500, prefix="B")]
    assert numbers == [f"B{n:08d}" for n in range(1, 2501)]
    assert len(set(numbers)) == len(numbers)


def test_everything_encodes_in_cp932(rows: list[dict[str, str]]) -> None:
    overlapping = _rows(5000, seed=3, overlap_with=4)
    for row in [*rows, *overlapping]:
        for value in row.values():
            value.encode("cp932")  # raises if not encodable


def test_shift_jis_and_cp932_csv_are_the_same_bytes() -> None:
    cp932, sjis = io.BytesIO(), io.BytesIO()
    write_csv(cp932, count=5000, seed=5, encoding="cp932")
    write_csv(sjis, count=5000, seed=5, encoding="shift_jis")
    assert cp932.getvalue() == sjis.getvalue()
    text = cp932.getvalue().decode("cp932")
    assert "\uff10" in text  # full-width digits ...
    assert "\uff0d" in text  # ... and hyphens were written
    parsed = list(csv.DictReader(io.StringIO(text, newline="")))
    assert parsed == _rows(5000, seed=5)


def test_prefectures_table() -> None:
    assert [code for code, _ in PREFECTURES] == [f"{i:02d}" for i in range(1, 48)]
    names = dict(PREFECTURES)
    assert (names["01"], names["02"], names["13"], names["14"]) == (
        "北海道",
        "青森県",
        "東京都",
        "神奈川県",
    )
    assert (names["26"], names["27"], names["47"]) == ("京都府", "大阪府", "沖縄県")
    assert len(set(names.values())) == 47


def test_prefecture_code_matches_the_address_prefix(rows: list[dict[str, str]]) -> None:
    names = dict(PREFECTURES)
    for row in rows:
        matches = [code for code, name in PREFECTURES if row["address"].startswith(name)]
        assert matches == [row["prefecture"]], row
        assert row["address"].startswith(names[row["prefecture"]])
        assert re.fullmatch(r"\d{3}-\d{4}", row["postal_code"]), row
    counts = Counter(row["prefecture"] for row in rows)
    assert len(counts) == 47
    top = {code for code, _ in counts.most_common(5)}
    assert {"13", "14", "27"} <= top  # weighted by population: Tokyo, Kanagawa, Osaka
    assert counts["13"] > 8 * counts["31"]  # Tokyo vs Tottori


def test_names_and_readings(rows: list[dict[str, str]]) -> None:
    kinds = Counter(row["kind"] for row in rows)
    assert set(kinds) == {"household", "business"}
    assert 0.17 < kinds["business"] / len(rows) < 0.23
    for row in rows:
        if row["kind"] == "household":
            family, given = row["name"].split("\u3000")
            kana_family, kana_given = row["name_kana"].split("\u3000")
            assert family
            assert given
            assert KATAKANA.fullmatch(kana_family), row
            assert KATAKANA.fullmatch(kana_given), row
        else:
            assert row["name"].startswith(LEGAL_FORMS) or row["name"].endswith(LEGAL_FORMS)
            assert KATAKANA.fullmatch(row["name_kana"]), row
            assert row["birth_date"] == ""
    assert {row["kind"] for row in _rows(300, business_share=0.0)} == {"household"}
    assert {row["kind"] for row in _rows(300, business_share=1.0)} == {"business"}


def test_emails_are_fictional_and_sometimes_awkwardly_formatted(
    rows: list[dict[str, str]],
) -> None:
    emails = [row["email"] for row in rows if row["email"]]
    assert 0.82 < len(emails) / len(rows) < 0.88
    upper = fullwidth = 0
    for email in emails:
        if not email.isascii():
            fullwidth += 1
        elif email != email.lower():
            upper += 1
        local, domain = _email_key(email).split("@")
        assert domain in EXAMPLE_DOMAINS, email
        assert re.fullmatch(r"[a-z][a-z0-9._]*[0-9]", local), email
    assert 0.02 < upper / len(emails) < 0.04
    assert 0.005 < fullwidth / len(emails) < 0.015
    # Practically unique (like real bases, a rare collision is tolerated).
    assert len({_email_key(e) for e in emails}) > 0.998 * len(emails)


def test_phones_use_japanese_formats_with_variations(rows: list[dict[str, str]]) -> None:
    phones = [row["phone"] for row in rows if row["phone"]]
    assert 0.87 < len(phones) / len(rows) < 0.93
    styles: Counter[str] = Counter()
    for phone in phones:
        if phone.startswith("+81 "):
            styles["+81"] += 1
        elif not phone.isascii():
            styles["full-width"] += 1
        elif "-" not in phone:
            styles["digits"] += 1
        else:
            styles["hyphenated"] += 1
            assert re.fullmatch(
                r"0[789]0-\d{4}-\d{4}|0[36]-\d{4}-\d{4}|0\d{3}-\d{2}-\d{4}", phone
            ), phone
        assert re.fullmatch(r"0\d{9,10}", _phone_key(phone)), phone
    assert 0.04 < styles["digits"] / len(phones) < 0.06
    assert 0.02 < styles["+81"] / len(phones) < 0.04
    assert 0.01 < styles["full-width"] / len(phones) < 0.03
    assert styles["hyphenated"] / len(phones) > 0.85


def test_dates_are_iso_and_in_range(rows: list[dict[str, str]]) -> None:
    today = DEFAULT_TODAY
    assert today == datetime.date(2026, 11, 1)
    oldest_join = today.replace(year=today.year - 15)
    dormant = no_birth = households = 0
    for row in rows:
        joined = datetime.date.fromisoformat(row["joined_on"])
        last = datetime.date.fromisoformat(row["last_active_on"])
        assert oldest_join <= joined <= last <= today, row
        dormant += (today - last).days > 365
        if row["kind"] == "household":
            households += 1
            if row["birth_date"]:
                birth = datetime.date.fromisoformat(row["birth_date"])
                assert 18 <= _age(birth, today) <= 90, row
            else:
                no_birth += 1
    assert 0.27 < dormant / len(rows) < 0.33
    assert 0.08 < no_birth / households < 0.12
    statuses = Counter(row["status"] for row in rows)
    assert set(statuses) == {"active", "inactive"}
    assert 0.93 < statuses["active"] / len(rows) < 0.97


def test_today_moves_every_date() -> None:
    today = datetime.date(2030, 2, 28)
    for row in _rows(3000, today=today):
        assert row["last_active_on"] <= today.isoformat()
        assert row["joined_on"] >= "2015-02-28"
        if row["birth_date"]:
            assert 18 <= _age(datetime.date.fromisoformat(row["birth_date"]), today) <= 90


def test_overlap_with_shares_about_30_percent_of_people() -> None:
    count = 10_000
    mine = _rows(count, seed=1, overlap_with=2)
    theirs = _rows(count, seed=2)
    shared = reformatted = 0
    for a, b in zip(mine, theirs, strict=True):
        same_email = bool(a["email"]) and _email_key(a["email"]) == _email_key(b["email"])
        same_phone = bool(a["phone"]) and _phone_key(a["phone"]) == _phone_key(b["phone"])
        if same_email or same_phone:
            shared += 1
            assert (a["name"], a["name_kana"], a["kind"]) == (b["name"], b["name_kana"], b["kind"])
            reformatted += (a["email"], a["phone"]) != (b["email"], b["phone"])
    assert 0.26 < shared / count < 0.34
    assert reformatted > 0.1 * shared  # the same person is often written differently

    # Without overlap_with, two bases share (practically) nobody.
    unrelated = _rows(count, seed=1)
    assert (
        sum(
            bool(a["email"]) and _email_key(a["email"]) == _email_key(b["email"])
            for a, b in zip(unrelated, theirs, strict=True)
        )
        < 0.001 * count
    )


def test_overlap_reaches_any_n_without_generating_the_other_base() -> None:
    # Row 50,000 of a base that overlaps with a 10-million-row base: no time, no memory.
    started = time.perf_counter()
    far = list(islice(synthetic_members(count=10**7, seed=1, overlap_with=2), 49_990, 50_000))
    assert time.perf_counter() - started < 10
    assert [row["member_number"] for row in far][-1] == "M00050000"


def test_streaming_returns_a_lazy_generator() -> None:
    members = synthetic_members(count=10**12)
    assert isinstance(members, types.GeneratorType)
    assert not isinstance(members, list | tuple)
    assert [row["member_number"] for row in islice(members, 3)] == [
        "M00000001",
        "M00000002",
        "M00000003",
    ]


def test_memory_does_not_grow_with_count() -> None:
    write_csv(_Sink(), count=10)  # warm the module's lookup tables
    tracemalloc.start()
    try:
        write_csv(_Sink(), count=5_000)
        small = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        write_csv(_Sink(), count=20_000)
        large = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert large < small * 1.2 + 256 * 1024
    assert large < 32 * 1024 * 1024


def test_invalid_arguments_are_rejected_on_call() -> None:
    with pytest.raises(ValueError, match="count"):
        synthetic_members(count=-1)
    with pytest.raises(ValueError, match="business_share"):
        synthetic_members(count=1, business_share=1.5)
    with pytest.raises(TypeError, match="today"):
        synthetic_members(count=1, today=datetime.datetime(2026, 1, 1))
    with pytest.raises(LookupError):
        write_csv(_Sink(), count=1, encoding="no-such-codec")


def test_write_csv_to_a_path_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    size = write_csv(path, count=3000, seed=9, overlap_with=10)
    data = path.read_bytes()
    assert size == len(data)
    assert data.startswith((",".join(COLUMNS) + "\n").encode())
    assert b"\r" not in data
    with path.open(encoding="utf-8", newline="") as fh:
        assert list(csv.DictReader(fh)) == _rows(3000, seed=9, overlap_with=10)
    assert write_csv(str(path), count=3000, seed=9, overlap_with=10) == size
    assert path.read_bytes() == data


def test_write_csv_bytes_are_what_the_csv_module_writes() -> None:
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(row.values() for row in _rows(4000, seed=2, overlap_with=3))
    out = io.BytesIO()
    assert write_csv(out, count=4000, seed=2, overlap_with=3) == len(out.getvalue())
    assert out.getvalue() == expected.getvalue().encode("utf-8")


def test_write_csv_quotes_a_prefix_that_needs_it() -> None:
    out = io.BytesIO()
    write_csv(out, count=3, prefix='A,"B')
    parsed = list(csv.DictReader(io.StringIO(out.getvalue().decode(), newline="")))
    assert [row["member_number"] for row in parsed] == [f'A,"B{n:08d}' for n in (1, 2, 3)]
    assert parsed == _rows(3, prefix='A,"B')


def test_write_csv_with_no_rows_writes_the_header() -> None:
    out = io.BytesIO()
    assert write_csv(out, count=0) == len(out.getvalue())
    assert out.getvalue() == (",".join(COLUMNS) + "\n").encode()


def test_write_jsonl(tmp_path: Path) -> None:
    expected = _rows(2500, seed=4)
    path = tmp_path / "members.jsonl"
    size = write_jsonl(path, count=2500, seed=4)
    data = path.read_bytes()
    assert size == len(data)
    lines = data.decode("utf-8").split("\n")
    assert lines[-1] == ""
    assert lines[:-1] == [json.dumps(row, ensure_ascii=False) for row in expected]
    assert [json.loads(line) for line in lines[:-1]] == expected

    out = io.BytesIO()
    assert write_jsonl(out, count=2500, seed=4) == size
    assert out.getvalue() == data
    assert write_jsonl(io.BytesIO(), count=0) == 0
