# Full-width letters, digits and signs are the test data here: they are what people type.
# ruff: noqa: RUF001
"""Bulk import of a member base (CSV or JSON Lines), on SQLite (executemany) and PostgreSQL
(COPY): good files land sealed and linked, re-imports change nothing, and bad files are either
refused whole or reported row by row with the line a person must fix, never half written.

Bob, the brand's partner admin, uploads the brand's member base. Its members are Hanako Sato,
Taro Yamada, Hanako's shop and Jiro Suzuki (who left no contact details).
"""

import csv
import io
import json
import tracemalloc
from collections.abc import Iterable
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files import File
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.member_columns import COLUMNS
from partners.models import AuditEvent, MemberAccount, MemberImport, Partner, Person
from partners.services import (
    member_create,
    member_erase,
    member_import_create,
    member_import_jobs,
    member_import_run,
)
from partners.services import member_import as member_import_module
from partners.services import member_staging as member_staging_module
from partners.services.member_records import open_member
from partners.synthetic import write_csv

pytestmark = pytest.mark.django_db

Row = dict[str, Any]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def bob(partner_admin: Any) -> Actor:
    return Actor(user=partner_admin)


# --- Files ----------------------------------------------------------------------------------


def _row(number: str, **values: Any) -> Row:
    row: Row = {"member_number": number, "kind": "household", "name": "佐藤 花子"}
    row.update(values)
    return row


HANAKO = _row(
    "M001",
    name="佐藤　花子",  # ideographic space, as member systems store it
    name_kana="ｻﾄｳ ﾊﾅｺ",
    email="Hanako.Sato@Example.JP",
    phone="090-1234-5678",
    postal_code="〒150-0002",
    address="東京都渋谷区渋谷1-2-3",
    birth_date="1990/04/01",
    joined_on="2020-01-15",
    last_active_on="2026-10-01",
)
TARO = _row(
    "M002",
    name="山田 太郎",
    email="taro.yamada@example.jp",
    address="神奈川県横浜市中区本町1-1",
    birth_date="1985-12-24",
)
HANAKOS_SHOP = _row(
    "M003",
    kind="business",
    name="佐藤商店",
    email="hanako.sato@example.jp",
    phone="090-1234-5678",
    prefecture="13",
)
JIRO = _row("M004", name="鈴木 次郎", status="inactive")
BASE = [HANAKO, TARO, HANAKOS_SHOP, JIRO]


def _csv(
    rows: Iterable[Row], *, columns: Iterable[str] = COLUMNS, encoding: str = "utf-8"
) -> bytes:
    columns = list(columns)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(name, "") for name in columns])
    return text.getvalue().encode(encoding)


def _jsonl(rows: Iterable[Row]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


def _lines(*lines: str) -> bytes:
    return "".join(line + "\n" for line in lines).encode()


HEADER = ",".join(COLUMNS)


def _csv_line(row: Row) -> str:
    return _csv([row]).decode().splitlines()[1]


# --- Running imports ------------------------------------------------------------------------


def _create(
    partner: Partner,
    data: bytes,
    *,
    name: str = "members.csv",
    actor: Actor | None = None,
    **options: Any,
) -> MemberImport:
    return member_import_create(
        partner=partner,
        upload=io.BytesIO(data),
        original_name=name,
        actor=actor or Actor.system(),
        enqueue=False,
        **options,
    )


def _import(partner: Partner, data: bytes, **options: Any) -> MemberImport:
    job = _create(partner, data, **options)
    return member_import_run(job_id=job.id)


def _errors(job: MemberImport) -> list[tuple[int, str, str, str]]:
    """The job's error file as (line, column, code, message) rows."""
    if not job.errors:
        return []
    with job.errors.open("rb") as stored:
        text = stored.read().decode("utf-8-sig")
    header, *rows = csv.reader(io.StringIO(text))
    assert header == ["line", "column", "code", "message"]
    return [(int(line), column, code, message) for line, column, code, message in rows]


def _codes(job: MemberImport) -> list[tuple[int, str, str]]:
    return [(line, column, code) for line, column, code, _ in _errors(job)]


def _staging_tables() -> list[str]:
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
    return [name for name in names if name.startswith("sanpo_import_")]


def _sealed(value: bytes | memoryview | None) -> bytes:
    assert value is not None
    return bytes(value)


def _members(partner: Partner) -> dict[str, MemberAccount]:
    return {m.member_number: m for m in MemberAccount.objects.filter(partner=partner)}


def _assert_refused(job: MemberImport, *fragments: str) -> None:
    assert job.status == MemberImport.Status.FAILED, (job.status, job.failure, _errors(job))
    for fragment in fragments:
        assert fragment in job.failure
    assert job.finished_at is not None
    assert _staging_tables() == []


def _assert_rejected(job: MemberImport) -> None:
    assert job.status == MemberImport.Status.REJECTED, (job.status, job.failure)
    assert job.rows_created == job.rows_updated == job.rows_unchanged == 0
    assert job.rows_invalid > 0
    assert _staging_tables() == []


# --- Good files -----------------------------------------------------------------------------


def test_a_csv_member_base_is_imported_sealed_normalised_and_linked(
    partner: Partner, bob: Actor
) -> None:
    job = _import(partner, _csv(BASE), actor=bob)

    assert job.status == MemberImport.Status.COMPLETED, (job.failure, _errors(job))
    assert (job.rows_staged, job.rows_created, job.rows_updated, job.rows_unchanged) == (4, 4, 0, 0)
    assert job.rows_invalid == 0
    assert not job.errors
    assert job.resolved_encoding == "utf-8"
    # Hanako and her shop share an e-mail but not a kind: four persons.
    assert job.persons_linked == 4
    assert Person.objects.count() == 4
    members = _members(partner)
    assert sorted(members) == ["M001", "M002", "M003", "M004"]
    hanako = members["M001"]
    assert open_member(hanako) == {
        "name": "佐藤 花子",
        "name_kana": "サトウ ハナコ",
        "email": "hanako.sato@example.jp",
        "phone": "09012345678",
        "postal_code": "150-0002",
        "address": "東京都渋谷区渋谷1-2-3",
        "birth_date": "1990-04-01",
    }
    assert (hanako.kind, hanako.status, hanako.birth_year, hanako.prefecture) == (
        "household",
        "active",
        1990,
        "13",
    )
    assert str(hanako.joined_on) == "2020-01-15"
    assert members["M002"].prefecture == "14"  # from the address
    assert members["M003"].prefecture == "13"  # given
    assert members["M004"].status == "inactive"
    assert open_member(members["M004"])["email"] is None
    assert all(m.person_id is not None for m in members.values())
    assert len({m.person_id for m in members.values()}) == 4
    assert _staging_tables() == []
    finished = AuditEvent.objects.get(
        action=AuditEvent.Action.MEMBER_IMPORT_FINISHED, object_id=str(job.id)
    )
    assert finished.actor_user == bob.user
    assert finished.detail["created"] == 4


def test_imported_members_are_linked_to_the_same_people_at_other_partners(
    partner: Partner, host: Partner
) -> None:
    at_host = _import(host, _csv([_row("H-9", email="hanako.sato@example.jp")]))
    assert at_host.status == MemberImport.Status.COMPLETED

    job = _import(partner, _csv(BASE))

    assert job.persons_linked == 3  # Hanako joins the host's person
    assert _members(partner)["M001"].person_id == _members(host)["H-9"].person_id


def test_a_jsonl_member_base_is_imported(partner: Partner) -> None:
    rows = [
        dict(HANAKO, member_number=1001),  # numbers may come as JSON numbers
        {"member_number": "M002", "kind": "household", "name": "山田 太郎", "email": None},
        {"member_number": "M003", "kind": "business", "name": "佐藤商店"},
    ]
    data = _jsonl(rows[:1]) + b"\n" + _jsonl(rows[1:])  # a blank line is skipped

    job = _import(partner, data, name="members.jsonl")

    assert job.format == MemberImport.Format.JSONL
    assert job.status == MemberImport.Status.COMPLETED, (job.failure, _errors(job))
    assert (job.rows_created, job.rows_updated, job.rows_unchanged) == (3, 0, 0)
    members = _members(partner)
    assert sorted(members) == ["1001", "M002", "M003"]
    assert open_member(members["1001"])["email"] == "hanako.sato@example.jp"
    assert open_member(members["1001"])["birth_date"] == "1990-04-01"
    assert open_member(members["M002"])["email"] is None
    assert members["M003"].kind == "business"


def test_a_realistic_synthetic_base_imports_without_errors(partner: Partner, settings: Any) -> None:
    settings.SANPO_IMPORT_CHUNK_ROWS = 64
    data = io.BytesIO()
    write_csv(data, count=300, seed=7)

    job = _import(partner, data.getvalue())

    assert job.status == MemberImport.Status.COMPLETED, _errors(job)[:5]
    assert job.rows_created == 300
    assert MemberAccount.objects.filter(partner=partner, person__isnull=True).count() == 0


def test_importing_the_same_file_again_changes_nothing(partner: Partner) -> None:
    data = _csv(BASE)
    first = _import(partner, data)
    before = {
        number: (m.updated_at, m.person_id, _sealed(m.wrapped_key), _sealed(m.name_sealed))
        for number, m in _members(partner).items()
    }
    persons = Person.objects.count()

    again = _import(partner, data)

    assert first.status == again.status == MemberImport.Status.COMPLETED
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 4)
    assert again.persons_linked == 0
    assert Person.objects.count() == persons
    after = {
        number: (m.updated_at, m.person_id, _sealed(m.wrapped_key), _sealed(m.name_sealed))
        for number, m in _members(partner).items()
    }
    assert after == before


def test_a_spelling_change_that_normalises_to_the_same_record_is_unchanged(
    partner: Partner,
) -> None:
    _import(partner, _csv(BASE))
    respelled = dict(HANAKO, email="HANAKO.SATO@EXAMPLE.JP", phone="+81 90 1234 5678")

    job = _import(partner, _csv([respelled, TARO, HANAKOS_SHOP, JIRO]))

    assert (job.rows_created, job.rows_updated, job.rows_unchanged) == (0, 0, 4)


def test_an_upsert_updates_changed_rows_and_relinks_a_changed_email(
    partner: Partner, host: Partner
) -> None:
    _import(host, _csv([_row("H-1", name="山田 太郎", email="taro@example.jp")]))
    _import(partner, _csv(BASE))
    before = _members(partner)
    persons = Person.objects.count()
    married = dict(HANAKO, name="田中 花子")
    new_address = dict(TARO, email="taro@example.jp")
    new_member = _row("M005", name="高橋 三郎")

    job = _import(partner, _csv([married, new_address, HANAKOS_SHOP, JIRO, new_member]))

    assert job.status == MemberImport.Status.COMPLETED
    assert (job.rows_created, job.rows_updated, job.rows_unchanged) == (1, 2, 2)
    after = _members(partner)
    assert open_member(after["M001"])["name"] == "田中 花子"
    assert after["M001"].person_id == before["M001"].person_id  # same e-mail, same person
    assert after["M001"].updated_at > before["M001"].updated_at
    assert after["M003"].updated_at == before["M003"].updated_at
    # Taro's new e-mail is the one the host knows him by: he is that person now.
    assert after["M002"].person_id == _members(host)["H-1"].person_id
    assert after["M005"].person_id is not None
    assert Person.objects.count() == persons + 1


def test_create_mode_rejects_member_numbers_that_exist(partner: Partner) -> None:
    _import(partner, _csv([HANAKO, TARO]))
    members_before = MemberAccount.objects.count()

    job = _import(partner, _csv([dict(TARO, name="山田 太"), JIRO, HANAKO]), mode="create")

    _assert_rejected(job)
    assert _codes(job) == [
        (2, "member_number", "member_exists"),
        (4, "member_number", "member_exists"),
    ]
    assert "M002 already exists" in _errors(job)[0][3]
    assert MemberAccount.objects.count() == members_before
    assert "M004" not in _members(partner)
    assert open_member(_members(partner)["M002"])["name"] == "山田 太郎"


def test_an_erased_member_cannot_be_imported_again(partner: Partner) -> None:
    _import(partner, _csv([HANAKO, TARO]))
    member_erase(member=_members(partner)["M001"], actor=Actor.system())

    job = _import(partner, _csv([HANAKO, TARO, JIRO]))

    _assert_rejected(job)
    assert _codes(job) == [(2, "member_number", "member_erased")]
    hanako = _members(partner)["M001"]
    assert hanako.status == MemberAccount.Status.ERASED
    assert hanako.wrapped_key is None


def test_another_partners_import_never_touches_the_first_partners_members(
    partner: Partner, outsider: Partner
) -> None:
    _import(partner, _csv(BASE))
    before = {n: _sealed(m.name_sealed) for n, m in _members(partner).items()}
    theirs = [_row(row["member_number"], name="別人 です") for row in BASE]

    job = _import(outsider, _csv(theirs), mode="create")

    assert job.status == MemberImport.Status.COMPLETED, _errors(job)
    assert job.rows_created == 4
    assert {n: _sealed(m.name_sealed) for n, m in _members(partner).items()} == before
    assert open_member(_members(outsider)["M001"])["name"] == "別人 です"
    assert open_member(_members(partner)["M001"])["name"] == "佐藤 花子"
    assert MemberAccount.objects.count() == 8


def test_a_header_only_file_completes_with_no_rows(partner: Partner) -> None:
    job = _import(partner, HEADER.encode())

    assert job.status == MemberImport.Status.COMPLETED
    assert (job.rows_staged, job.rows_created, job.rows_invalid) == (0, 0, 0)
    assert _staging_tables() == []


def test_a_header_may_be_in_any_order_case_or_width(partner: Partner) -> None:
    data = _lines("Name,ＫＩＮＤ, member_number ,email", "佐藤 花子,household,M001,h@example.jp")

    job = _import(partner, data)

    assert job.status == MemberImport.Status.COMPLETED, job.failure
    assert open_member(_members(partner)["M001"])["email"] == "h@example.jp"


# --- Encodings ------------------------------------------------------------------------------

SHIFT_JIS_NAMES = [
    _row("M001", name="髙橋 一郎", address="京都府京都市左京区1-1"),  # 髙: cp932 only
    _row("M002", name="渡邉 ①子", address="北海道札幌市中央区1-1"),
    _row("M003", name="ｶﾌﾞｼｷｶﾞｲｼｬ ｻﾝﾎﾟ", kind="business"),  # half-width katakana
]


def test_a_shift_jis_file_is_detected_and_its_names_decode_right(partner: Partner) -> None:
    job = _import(partner, _csv(SHIFT_JIS_NAMES, encoding="cp932"))

    assert job.status == MemberImport.Status.COMPLETED, (job.failure, _errors(job))
    assert job.resolved_encoding == "cp932"
    members = _members(partner)
    assert open_member(members["M001"])["name"] == "髙橋 一郎"
    assert members["M001"].prefecture == "26"
    assert open_member(members["M002"])["name"] == "渡邉 1子"  # NFKC: ① is a 1
    assert members["M002"].prefecture == "01"
    assert open_member(members["M003"])["name"] == "カブシキガイシャ サンポ"


def test_a_windows_shift_jis_file_declared_as_shift_jis_imports(partner: Partner) -> None:
    # What Excel on Windows saves as "CSV": cp932 with CRLF, also inside quoted fields.
    rows = [*SHIFT_JIS_NAMES, _row("M004", address="東京都渋谷区\r\n渋谷1-2-3", email="x@")]
    data = _csv(rows, encoding="cp932").replace(b"\n", b"\r\n").replace(b"\r\r", b"\r")

    job = _import(partner, data, encoding="shift_jis")

    _assert_rejected(job)
    assert _codes(job) == [(5, "email", "invalid_email")]  # the address spans lines 5-6

    job = _import(partner, data, encoding="shift_jis", skip_invalid_rows=True)

    assert job.status == MemberImport.Status.COMPLETED
    assert open_member(_members(partner)["M001"])["name"] == "髙橋 一郎"
    assert open_member(_members(partner)["M003"])["name"] == "カブシキガイシャ サンポ"


def test_a_line_in_another_encoding_after_the_sniffed_start_is_reported_by_line(
    partner: Partner,
) -> None:
    start = io.BytesIO()
    write_csv(start, count=400, seed=3)
    assert len(start.getvalue()) > 64 * 1024  # beyond what the encoding is decided from
    late = _csv_line(_row("M999", name="髙橋 一郎")).encode("cp932") + b"\n"

    job = _import(partner, start.getvalue() + late)

    _assert_rejected(job)
    ((line, _, code, message),) = _errors(job)
    assert (line, code) == (402, "invalid_encoding")
    assert "Not valid UTF-8 at byte" in message
    assert MemberAccount.objects.count() == 0


def test_a_shift_jis_file_declared_as_utf8_is_refused_with_a_hint(partner: Partner) -> None:
    job = _import(partner, _csv(SHIFT_JIS_NAMES, encoding="cp932"), encoding="utf-8")

    _assert_refused(job, "not valid UTF-8", "Shift_JIS")
    assert MemberAccount.objects.count() == 0


def test_a_utf8_file_declared_as_shift_jis_is_refused(partner: Partner) -> None:
    job = _import(partner, _csv(BASE), encoding="shift_jis")

    _assert_refused(job, "UTF-8, not Shift_JIS")
    assert MemberAccount.objects.count() == 0


def test_a_utf8_file_with_a_byte_order_mark_imports(partner: Partner) -> None:
    job = _import(partner, b"\xef\xbb\xbf" + _csv(BASE))

    assert job.status == MemberImport.Status.COMPLETED, job.failure
    assert job.rows_created == 4


def test_a_utf16_file_is_refused_as_neither_utf8_nor_shift_jis(partner: Partner) -> None:
    # Excel's "Unicode text" export is UTF-16: the person importing it needs to hear about
    # the encoding, not about garbled column names.
    job = _import(partner, _csv(BASE).decode().encode("utf-16"))

    _assert_refused(job, "neither UTF-8 nor Shift_JIS")


# --- Files refused whole --------------------------------------------------------------------


def test_an_empty_file_is_refused(partner: Partner) -> None:
    job = _import(partner, b"")

    _assert_refused(job, "empty")


def test_a_file_missing_required_columns_is_refused_naming_them(partner: Partner) -> None:
    job = _import(partner, _lines("member_number,email", "M001,h@example.jp"))

    _assert_refused(job, "missing required columns: kind, name")
    assert MemberAccount.objects.count() == 0


def test_a_file_with_an_unknown_column_is_refused_naming_it(partner: Partner) -> None:
    job = _import(partner, _csv(BASE, columns=[*COLUMNS, "nickname"]))

    _assert_refused(job, "unknown columns: nickname", "Expected columns: member_number")
    assert MemberAccount.objects.count() == 0


def test_a_file_with_a_repeated_column_is_refused(partner: Partner) -> None:
    job = _import(partner, _lines("member_number,kind,name,email,Email", "M001,household,a,,"))

    _assert_refused(job, "repeated columns: email")


def test_bad_options_are_refused_before_anything_is_stored(partner: Partner) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"format": "xlsx"}, "format"),
        ({"encoding": "latin-1"}, "encoding"),
        ({"mode": "replace"}, "mode"),
    ]
    for options, field in cases:
        with pytest.raises(ApplicationError) as caught:
            _create(partner, _csv(BASE), **options)
        assert caught.value.code == ErrorCode.VALIDATION_FAILED
        assert field in caught.value.fields
    assert MemberImport.objects.count() == 0


def test_a_partner_without_a_member_base_cannot_import(partner: Partner) -> None:
    Partner.objects.filter(pk=partner.pk).update(holds_customer_data=False)
    partner.refresh_from_db()

    with pytest.raises(ApplicationError) as caught:
        _create(partner, _csv(BASE))

    assert caught.value.code == ErrorCode.CONFLICT


# --- Rows reported by line ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "code", "message"),
    [
        ('M002,household,"山田 太郎,,,,,,,,,,', "malformed_csv", "Not valid CSV"),
        ('M002,household,"山田"太郎,,,,,,,,,,', "malformed_csv", "Not valid CSV"),
        ("M002,household,山田 太郎", "wrong_field_count", "Expected 13 fields, found 3."),
        ("M002,household,山田 太郎" + "," * 13, "wrong_field_count", "found 16"),
        (_row("M002", name="山田\x00太郎"), "invalid_text", "Control characters"),
        (_row("M002", name=" "), "required", "A name is required."),
        (_row("M002", kind="person"), "invalid_choice", "household or business"),
        (_row("M002", birth_date="2099-01-01"), "out_of_range", "not plausible"),
        (_row("M002", joined_on="2099-01-01"), "out_of_range", "in the future"),
        (_row("M002", status="erased"), "invalid_choice", "active or inactive"),
        (_row("M 002"), "invalid_member_number", "letters, digits"),
        (_row("M002", prefecture="99"), "invalid_prefecture", "not a prefecture"),
    ],
    ids=[
        "unterminated quote",
        "text after a closing quote",
        "too few fields",
        "too many fields",
        "NUL byte",
        "no name",
        "unknown kind",
        "birth date in the future",
        "joined in the future",
        "status erased",
        "space in member number",
        "unknown prefecture",
    ],
)
def test_a_bad_row_is_reported_by_line_and_nothing_is_imported(
    partner: Partner, bad: str | Row, code: str, message: str
) -> None:
    bad_line = bad if isinstance(bad, str) else _csv_line(bad)
    data = _lines(HEADER, _csv_line(HANAKO), bad_line, _csv_line(JIRO))

    job = _import(partner, data)

    _assert_rejected(job)
    errors = _errors(job)
    assert [(line, error_code) for line, _, error_code, _ in errors] == [(3, code)], errors
    assert message in errors[0][3]
    assert job.rows_invalid == 1
    assert MemberAccount.objects.count() == 0


def test_every_error_of_a_row_is_reported_at_once(partner: Partner) -> None:
    bad = _row("M002", kind="", email="taro@", phone="12345", postal_code="1", birth_date="x")

    job = _import(partner, _csv([HANAKO, bad]))

    _assert_rejected(job)
    assert _codes(job) == [
        (3, "birth_date", "invalid_date"),
        (3, "email", "invalid_email"),
        (3, "kind", "invalid_choice"),
        (3, "phone", "invalid_phone"),
        (3, "postal_code", "invalid_postal_code"),
    ]
    assert job.rows_invalid == 1


def test_line_numbers_count_the_lines_of_quoted_multiline_fields(partner: Partner) -> None:
    rows = [
        dict(HANAKO, address="東京都渋谷区\n渋谷1-2-3"),  # lines 2-3
        dict(TARO, email="taro@@example.jp"),  # line 4
        dict(HANAKOS_SHOP, phone="090-1234-567"),  # line 5
        dict(JIRO, address="北海道\n札幌市\n中央区", email="jiro@example"),  # lines 6-8
        _row("M005", phone="03-1234-56789"),  # line 9
    ]

    job = _import(partner, _csv(rows))

    _assert_rejected(job)
    assert _codes(job) == [
        (4, "email", "invalid_email"),
        (5, "phone", "invalid_phone"),
        (6, "email", "invalid_email"),
        (9, "phone", "invalid_phone"),
    ]
    assert _errors(job)[0][3] == "This is not an e-mail address."
    assert job.rows_invalid == 4
    assert MemberAccount.objects.count() == 0


def test_duplicate_member_numbers_in_a_file_are_reported_on_every_line(
    partner: Partner, settings: Any
) -> None:
    settings.SANPO_IMPORT_CHUNK_ROWS = 2  # the two lines land in different chunks
    rows = [HANAKO, TARO, JIRO, dict(TARO, member_number="Ｍ００２", name="山田 次郎")]

    job = _import(partner, _csv(rows))

    _assert_rejected(job)
    assert _codes(job) == [
        (3, "member_number", "duplicate_in_file"),
        (5, "member_number", "duplicate_in_file"),
    ]
    assert {error[3] for error in _errors(job)} == {
        "Member number M002 appears 2 times in the file (first on line 3)."
    }
    assert MemberAccount.objects.count() == 0


def test_a_csv_file_cut_off_mid_row_is_reported_as_cut_off(partner: Partner) -> None:
    whole = _csv([HANAKO, TARO, JIRO])
    cut = whole[: whole.index("鈴木".encode())]  # stops inside Jiro's row

    job = _import(partner, cut)

    _assert_rejected(job)
    ((line, _, code, message),) = _errors(job)
    assert (line, code) == (4, "wrong_field_count")
    assert "cut off" in message
    assert MemberAccount.objects.count() == 0


def test_a_jsonl_file_cut_off_mid_object_is_reported_as_cut_off(partner: Partner) -> None:
    whole = _jsonl([HANAKO, TARO, JIRO])
    cut = whole[: whole.index("鈴木".encode())]

    job = _import(partner, cut, name="members.jsonl")

    _assert_rejected(job)
    ((line, _, code, message),) = _errors(job)
    assert (line, code) == (3, "malformed_json")
    assert "cut off" in message
    assert MemberAccount.objects.count() == 0


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        ('{"member_number": "M002", "kind": "household", "name": "山田"', [("", "malformed_json")]),
        ('["M002", "household", "山田"]', [("", "malformed_json")]),
        ('"M002"', [("", "malformed_json")]),
        (
            '{"member_number": "M002", "kind": "household", "name": "山田", "nick": "taro"}',
            [("nick", "unknown_field")],
        ),
        (
            '{"member_number": "M002", "kind": "household", "name": {"family": "山田"}}',
            [("name", "invalid_type")],
        ),
        (
            '{"member_number": "M002", "kind": "household", "name": ["山田"]}',
            [("name", "invalid_type")],
        ),
        (
            '{"member_number": "M002", "kind": "household", "name": "山田", "phone": 3.5}',
            [("phone", "invalid_type")],
        ),
        # A JSON boolean is not a name: it must not be stored as the text "True".
        (
            '{"member_number": "M002", "kind": "household", "name": true}',
            [("name", "invalid_type")],
        ),
        # Nesting past the parser's recursion limit is a bad line, not a crashed import.
        (
            '{"member_number": "M002", "name": ' + "[" * 5000 + "]" * 5000 + "}",
            [("", "malformed_json")],
        ),
    ],
    ids=[
        "unclosed object",
        "array",
        "string",
        "unknown field",
        "object value",
        "array value",
        "float value",
        "boolean value",
        "nested too deep",
    ],
)
def test_a_bad_jsonl_line_is_reported_by_line(
    partner: Partner, bad_line: str, expected: list[tuple[str, str]]
) -> None:
    data = _jsonl([HANAKO]) + (bad_line + "\n").encode() + _jsonl([JIRO])

    job = _import(partner, data, name="members.ndjson")

    _assert_rejected(job)
    assert [(column, code) for line, column, code, _ in _errors(job) if line == 2] == expected
    assert {line for line, *_ in _errors(job)} == {2}
    assert MemberAccount.objects.count() == 0


def test_skipping_invalid_rows_imports_the_valid_ones_and_reports_the_rest(
    partner: Partner,
) -> None:
    data = _lines(
        HEADER,
        _csv_line(HANAKO),
        _csv_line(dict(TARO, email="taro@")),
        _csv_line(HANAKOS_SHOP),
        "M009,household",
        _csv_line(JIRO),
        _csv_line(dict(JIRO, name="鈴木 次郎 (2)")),  # a duplicate: both are skipped
    )

    job = _import(partner, data, skip_invalid_rows=True)

    assert job.status == MemberImport.Status.COMPLETED
    assert (job.rows_created, job.rows_invalid) == (2, 4)
    assert sorted(_members(partner)) == ["M001", "M003"]
    assert _codes(job) == [
        (3, "email", "invalid_email"),
        (5, "", "wrong_field_count"),
        (6, "member_number", "duplicate_in_file"),
        (7, "member_number", "duplicate_in_file"),
    ]
    assert _staging_tables() == []


def test_a_line_too_long_is_reported_and_skipped(partner: Partner, settings: Any) -> None:
    settings.SANPO_IMPORT_MAX_LINE_BYTES = 1024
    data = _lines(
        HEADER,
        _csv_line(HANAKO),
        _csv_line(dict(TARO, address="東京都" + "あ" * 2000)),
        _csv_line(JIRO),
    )

    job = _import(partner, data, skip_invalid_rows=True)

    assert job.status == MemberImport.Status.COMPLETED
    assert _codes(job) == [(3, "", "line_too_long")]
    assert "1,024 bytes" in _errors(job)[0][3]
    assert sorted(_members(partner)) == ["M001", "M004"]


def test_a_row_with_a_line_too_long_inside_a_quoted_field_is_not_imported_truncated(
    partner: Partner, settings: Any
) -> None:
    # Taro's address spans lines 3-5 and its middle line is too long to read: his row cannot
    # be known, so it must not be imported with the middle of his address silently missing.
    settings.SANPO_IMPORT_MAX_LINE_BYTES = 1024
    taro = dict(TARO, address="東京都渋谷区\n" + "あ" * 2000 + "\n渋谷1-2-3")

    job = _import(partner, _csv([HANAKO, taro, JIRO]), skip_invalid_rows=True)

    assert job.status == MemberImport.Status.COMPLETED
    assert "line_too_long" in [code for _, _, code in _codes(job)]
    assert "M002" not in _members(partner), open_member(_members(partner)["M002"])["address"]
    assert sorted(_members(partner)) == ["M001", "M004"]


# --- A 2 GiB line, streamed ------------------------------------------------------------------

GIB = 1024**3


class _HugeLineFile(io.RawIOBase):
    """``head``, then ``size`` bytes of ``a`` with no newline, then ``tail``: generated on
    demand at any position, so 2 GiB costs nothing on disk and almost nothing in memory."""

    def __init__(self, head: bytes, size: int, tail: bytes) -> None:
        self.head, self.size, self.tail = head, size, tail
        self.length = len(head) + size + len(tail)
        self.position = 0
        self.block = b"a" * (1 << 20)
        self.delivered = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.length}[whence]
        self.position = base + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        start, head_end = self.position, len(self.head)
        body_end = head_end + self.size
        if start >= self.length:
            return 0
        if start < head_end:
            piece = self.head[start : start + len(view)]
        elif start < body_end:
            piece = self.block[: min(len(view), body_end - start)]
        else:
            piece = self.tail[start - body_end : start - body_end + len(view)]
        view[: len(piece)] = piece
        self.position += len(piece)
        self.delivered += len(piece)
        return len(piece)


def test_a_two_gigabyte_line_is_reported_in_constant_memory(
    partner: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = _lines(HEADER, _csv_line(HANAKO))
    huge = _HugeLineFile(head, 2 * GIB, b"\n" + _lines(_csv_line(TARO)))
    job = _create(partner, head, skip_invalid_rows=True)
    real_open = FieldFile.open

    def open_huge_source(self: FieldFile, mode: str = "rb") -> FieldFile:
        if self.field.name != "source":
            return real_open(self, mode)
        huge.seek(0)
        self.file = File(io.BufferedReader(huge, buffer_size=1 << 20))
        return self

    monkeypatch.setattr(FieldFile, "open", open_huge_source)
    tracemalloc.start()
    try:
        job = member_import_run(job_id=job.id)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert huge.delivered >= 2 * GIB  # the whole line was really read past
    assert job.status == MemberImport.Status.COMPLETED, (job.failure, _errors(job))
    assert _codes(job) == [(3, "", "line_too_long")]
    assert sorted(_members(partner)) == ["M001", "M002"]
    assert job.lines_done == 4
    assert peak < 50 * 1024**2, f"peak traced memory {peak / 1024**2:.0f} MiB"


# --- Resuming -------------------------------------------------------------------------------


class WorkerKilledError(Exception):
    pass


TEN = [_row(f"M{n:03d}", email=f"member{n}@example.jp") for n in range(1, 11)]


def _crash_on_third_call(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, *, after: bool
) -> None:
    real = getattr(owner, name)
    calls: list[int] = []

    def crashing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 3 and not after:
            raise WorkerKilledError
        result = real(*args, **kwargs)
        if len(calls) == 3:
            raise WorkerKilledError
        return result

    monkeypatch.setattr(owner, name, crashing)


@pytest.mark.parametrize(
    ("owner", "name", "after"),
    [
        (member_import_module, "_flush", False),
        (member_staging_module.Stage, "write_rows", True),
    ],
    ids=["before the third chunk", "inside the third chunk's transaction"],
)
def test_a_crashed_import_resumes_after_its_lease_expires_staging_every_row_once(
    partner: Partner,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    owner: Any,
    name: str,
    after: bool,
) -> None:
    settings.SANPO_IMPORT_CHUNK_ROWS = 3
    job = _create(partner, _csv(TEN))
    _crash_on_third_call(monkeypatch, owner, name, after=after)

    with pytest.raises(WorkerKilledError):
        member_import_run(job_id=job.id)
    monkeypatch.undo()

    job.refresh_from_db()
    assert job.status == MemberImport.Status.STAGING
    assert (job.rows_staged, job.lines_done) == (6, 7)  # the header and two chunks
    assert MemberAccount.objects.count() == 0

    # While the crashed run's lease is live nobody else may run the job.
    with pytest.raises(ApplicationError) as caught:
        member_import_run(job_id=job.id)
    assert caught.value.code == ErrorCode.CONFLICT

    MemberImport.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - member_import_jobs.LEASE - timedelta(seconds=1)
    )
    job = member_import_run(job_id=job.id)

    assert job.status == MemberImport.Status.COMPLETED, _errors(job)
    assert job.rows_staged == 10
    assert (job.rows_created, job.rows_updated, job.rows_unchanged, job.rows_invalid) == (
        10,
        0,
        0,
        0,
    )
    assert sorted(_members(partner)) == [f"M{n:03d}" for n in range(1, 11)]
    assert open_member(_members(partner)["M007"])["email"] == "member7@example.jp"
    assert _staging_tables() == []


def test_an_import_that_crashed_while_applying_resumes_and_applies_once(
    partner: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = _create(partner, _csv(BASE))
    real_link = member_staging_module.link_staged_rows

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise WorkerKilledError

    monkeypatch.setattr(member_staging_module, "link_staged_rows", crash)
    with pytest.raises(WorkerKilledError):
        member_import_run(job_id=job.id)
    monkeypatch.setattr(member_staging_module, "link_staged_rows", real_link)
    job.refresh_from_db()
    assert job.status == MemberImport.Status.APPLYING
    assert MemberAccount.objects.count() == 0  # the apply is one transaction

    MemberImport.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    job = member_import_run(job_id=job.id)

    assert job.status == MemberImport.Status.COMPLETED
    assert (job.rows_created, job.rows_invalid) == (4, 0)
    assert MemberAccount.objects.filter(person__isnull=False).count() == 4
    assert _staging_tables() == []


def test_a_finished_import_run_again_is_returned_as_it_is(partner: Partner) -> None:
    job = _import(partner, _csv(BASE))

    again = member_import_run(job_id=job.id)

    assert again.status == MemberImport.Status.COMPLETED
    assert again.finished_at == job.finished_at
    assert MemberAccount.objects.count() == 4


# --- The management command ------------------------------------------------------------------


def _file(tmp_path: Any, name: str, data: bytes) -> str:
    path = tmp_path / "uploads" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return str(path)


def test_the_command_imports_a_file_and_prints_the_counts(partner: Partner, tmp_path: Any) -> None:
    out = StringIO()

    call_command(
        "import_members", partner.slug, _file(tmp_path, "brand.csv", _csv(BASE)), stdout=out
    )

    assert "created 4, updated 0, unchanged 0, invalid rows 0, new persons 4" in out.getvalue()
    assert sorted(_members(partner)) == ["M001", "M002", "M003", "M004"]


def test_the_command_reports_a_rejected_file_as_an_error(partner: Partner, tmp_path: Any) -> None:
    path = _file(tmp_path, "brand.csv", _csv([HANAKO, dict(TARO, email="taro@")]))
    out = StringIO()

    with pytest.raises(CommandError, match="1 row"):
        call_command("import_members", partner.slug, path, stdout=out)

    assert "row errors:" in out.getvalue()
    assert MemberAccount.objects.count() == 0


def test_the_command_reports_a_refused_file_as_an_error(partner: Partner, tmp_path: Any) -> None:
    path = _file(tmp_path, "brand.csv", _csv(SHIFT_JIS_NAMES, encoding="cp932"))

    with pytest.raises(CommandError, match="Shift_JIS"):
        call_command("import_members", partner.slug, path, "--encoding", "utf-8", stdout=StringIO())


def test_the_command_skips_invalid_rows_when_asked(partner: Partner, tmp_path: Any) -> None:
    path = _file(tmp_path, "brand.jsonl", _jsonl([HANAKO, dict(TARO, email="taro@")]))
    out = StringIO()

    call_command("import_members", partner.slug, path, "--skip-invalid-rows", stdout=out)

    assert "created 1, updated 0, unchanged 0, invalid rows 1" in out.getvalue()


def test_the_command_refuses_an_unknown_partner_or_file(partner: Partner, tmp_path: Any) -> None:
    path = _file(tmp_path, "brand.csv", _csv(BASE))

    with pytest.raises(CommandError, match="No partner"):
        call_command("import_members", "no-such-co", path, stdout=StringIO())
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_members", partner.slug, path + ".missing", stdout=StringIO())
    assert MemberImport.objects.count() == 0


def test_the_command_resumes_a_crashed_import(
    partner: Partner, tmp_path: Any, settings: Any
) -> None:
    settings.SANPO_IMPORT_CHUNK_ROWS = 3
    job = _create(partner, _csv(TEN))
    # A run that died after claiming the job, long enough ago for its lease to have lapsed.
    MemberImport.objects.filter(pk=job.pk).update(
        status=MemberImport.Status.STAGING,
        runner=job.id,
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    out = StringIO()

    call_command("import_members", "--resume", str(job.id), stdout=out)

    assert "created 10," in out.getvalue()
    assert MemberAccount.objects.filter(partner=partner).count() == 10


def test_a_lone_surrogate_in_json_lines_is_a_row_error_not_a_stuck_job(partner: Partner) -> None:
    # json.loads accepts "\ud800"; such a string cannot be encoded, so it must stop at validation.
    broken = '{"member_number": "M009", "kind": "household", "name": "\\ud800"}'
    data = _jsonl([HANAKO]) + broken.encode() + b"\n"

    job = _import(partner, data, name="members.jsonl")

    _assert_rejected(job)
    assert _codes(job) == [(2, "name", "invalid_text")]


def test_error_messages_never_quote_the_rejected_personal_data(partner: Partner) -> None:
    job = _import(
        partner, _csv([dict(TARO, email="secret.person@example..jp", phone="0311112222333")])
    )

    _assert_rejected(job)
    with job.errors.open("rb") as report:
        text = report.read().decode("utf-8-sig")
    assert "secret.person" not in text
    assert "0311112222333" not in text
    assert {code for _, _, code in _codes(job)} == {"invalid_email", "invalid_phone"}


@pytest.mark.parametrize("rows", [BASE, [dict(TARO, email="not-an-email")]], ids=["ok", "bad"])
def test_the_uploaded_file_is_deleted_when_its_import_finishes(
    partner: Partner, rows: list[Row]
) -> None:
    job = _create(partner, _csv(rows))
    stored = job.source.path
    assert Path(stored).read_bytes()  # the member base in clear, until the job finishes

    job = member_import_run(job_id=job.id)

    assert job.is_finished
    assert not Path(stored).exists()
    job.refresh_from_db()
    assert not job.source
    assert job.file_sha256  # what was imported stays on record


def test_abandoned_imports_are_failed_and_their_files_and_tables_removed(
    partner: Partner, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SANPO_IMPORT_CHUNK_ROWS = 1
    job = _create(partner, _csv(BASE))
    stored = job.source.path
    calls: list[int] = []
    real_flush = member_import_module._flush

    def crash_after_first_chunk(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise WorkerKilledError
        real_flush(*args, **kwargs)

    monkeypatch.setattr(member_import_module, "_flush", crash_after_first_chunk)
    with pytest.raises(WorkerKilledError):
        member_import_run(job_id=job.id)
    fresh = _create(partner, _csv(BASE))  # pending, recent: left alone
    assert _staging_tables()
    MemberImport.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - member_import_jobs.ABANDONED_AFTER - timedelta(hours=1)
    )

    assert member_import_jobs.member_import_fail_abandoned() == 1

    job.refresh_from_db()
    assert job.status == MemberImport.Status.FAILED
    assert "Abandoned" in job.failure
    assert not Path(stored).exists()
    assert _staging_tables() == []
    fresh.refresh_from_db()
    assert fresh.status == MemberImport.Status.PENDING
    assert MemberAccount.objects.count() == 0


def test_create_mode_never_overwrites_a_member_created_while_the_import_applies(
    partner: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = _create(partner, _csv(BASE), mode="create")
    real_count = member_staging_module.Stage.count_invalid_lines

    def api_creates_taro_meanwhile(stage: Any) -> int:
        # After the checks passed, before the upsert: the partner's own API writes Taro.
        invalid = real_count(stage)
        member_create(
            partner=partner,
            values=dict(TARO, name="API 太郎", email="api.taro@example.jp"),
            actor=Actor.system(),
        )
        return invalid

    monkeypatch.setattr(
        member_staging_module.Stage, "count_invalid_lines", api_creates_taro_meanwhile
    )
    job = member_import_run(job_id=job.id)

    assert job.status == MemberImport.Status.COMPLETED
    assert (job.rows_created, job.rows_updated, job.rows_unchanged) == (3, 0, 1)
    taro = _members(partner)[TARO["member_number"]]
    assert open_member(taro)["name"] == "API 太郎"  # the import did not overwrite it
