"""The member-account API: a partner's own member base, through HTTP.

A partner can neither read nor write another partner's member accounts, and cannot learn
whether a person is a member elsewhere. Personal data is sealed at rest and shown only in the
detail of one's own account.
"""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from partners import services
from partners.actors import Actor
from partners.api.members import MemberDetailApi, MemberRecordInput
from partners.member_columns import COLUMNS
from partners.models import AuditEvent, IdempotencyKey, MemberAccount, Partner
from partners.pii import PERSONAL_FIELDS
from partners.services.member_records import open_member
from partners.services.members import MAX_BULK_MEMBERS
from tests.conftest import Key, client_for
from tests.factories import issue_key, make_partner

MEMBERS = "/api/v1/members"
BULK = "/api/v1/members/bulk"
# Full-width forms, as Japanese member bases often hold them.
WIDE_EMAIL = "ＴＡＲＯ@Example.jp"  # noqa: RUF001
WIDE_TARO = "ＴＡＲＯ"  # noqa: RUF001
WIDE_M_0001 = "Ｍ-０００１"  # noqa: RUF001
WIDE_M_1 = "Ｍ-１"  # noqa: RUF001
SUMMARY_FIELDS = {
    "member_number",
    "kind",
    "status",
    "age_band",
    "prefecture",
    "joined_on",
    "last_active_on",
    "created_at",
    "updated_at",
}


def record(number: str = "M-0001", **fields: Any) -> dict[str, Any]:
    return {"member_number": number, "kind": "household", "name": "山田 太郎", **fields}


def full_record(number: str = "M-0001", **fields: Any) -> dict[str, Any]:
    defaults = {
        "name_kana": "ヤマダ タロウ",
        "email": f"{number.lower()}@example.jp",
        "phone": "090-1234-5678",
        "postal_code": "1500001",
        "address": "東京都渋谷区神宮前1-1-1",
        "birth_date": "1990-04-01",
        "joined_on": "2020-01-15",
        "last_active_on": "2025-06-30",
    }
    return record(number, **{**defaults, **fields})


def detail_path(number: str) -> str:
    return f"{MEMBERS}/{number}"


def create(key: Key, body: dict[str, Any], **headers: Any) -> Any:
    return client_for(key).post(MEMBERS, body, format="json", **headers)


def created(key: Key, body: dict[str, Any]) -> dict[str, Any]:
    response = create(key, body)
    assert response.status_code == 201, response.content
    data: dict[str, Any] = response.json()
    return data


def bulk(key: Key, records: list[Any]) -> Any:
    return client_for(key).post(BULK, {"members": records}, format="json")


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    error: dict[str, Any] = body["error"]
    return error


def numbers(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["member_number"] for item in response.json()["results"]]


def keys_anywhere(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_anywhere(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_anywhere(v)}
    return set()


def member_of(partner: Partner, number: str) -> MemberAccount:
    return MemberAccount.objects.get(partner=partner, member_number=number)


@pytest.fixture
def member(partner: Partner) -> MemberAccount:
    return services.member_create(partner=partner, values=full_record(), actor=Actor.system())


# --- Who may call what --------------------------------------------------------------------------

# (method, path, body, status for the owner with a full key)
CALLS = [
    ("get", MEMBERS, None, 200),
    ("post", MEMBERS, record("M-0100"), 201),
    ("post", BULK, {"members": [record("M-0200")]}, 200),
    ("get", detail_path("M-0001"), None, 200),
    ("patch", detail_path("M-0001"), {"name_kana": "ヤマダ"}, 200),
    ("post", detail_path("M-0001") + "/deactivate", None, 200),
]
CALL_IDS = ["list", "create", "bulk", "detail", "update", "deactivate"]
WRITES = [call for call in CALLS if call[0] != "get"]
WRITE_IDS = [name for name, call in zip(CALL_IDS, CALLS, strict=True) if call[0] != "get"]


def call(client: APIClient, method: str, path: str, body: Any) -> Any:
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, body, format="json")


def base_state() -> list[tuple[Any, ...]]:
    return sorted(
        MemberAccount.objects.values_list(
            "partner_id", "member_number", "status", "updated_at", "record_digest"
        )
    )


@pytest.mark.parametrize(("method", "path", "body", "ok"), CALLS, ids=CALL_IDS)
def test_every_member_endpoint_needs_a_key(
    member: MemberAccount, method: str, path: str, body: Any, ok: int
) -> None:
    before = base_state()
    error = assert_error(call(client_for(None), method, path, body), 401, "authentication_required")
    assert "M-0001" not in json.dumps(error)
    assert base_state() == before


@pytest.mark.parametrize(("method", "path", "body", "ok"), WRITES, ids=WRITE_IDS)
def test_a_read_only_key_cannot_write_members(
    member: MemberAccount, partner_read_key: Key, method: str, path: str, body: Any, ok: int
) -> None:
    before = base_state()
    response = call(client_for(partner_read_key), method, path, body)
    assert_error(response, 403, "insufficient_scope")
    assert base_state() == before


def test_a_read_only_key_reads_the_list_and_the_detail(
    member: MemberAccount, partner_read_key: Key
) -> None:
    client = client_for(partner_read_key)
    assert numbers(client.get(MEMBERS)) == ["M-0001"]
    assert client.get(detail_path("M-0001")).json()["personal"]["email"] == "m-0001@example.jp"


@pytest.mark.parametrize(("method", "path", "body", "ok"), CALLS, ids=CALL_IDS)
def test_the_owner_may_call_every_member_endpoint(
    member: MemberAccount, partner_key: Key, method: str, path: str, body: Any, ok: int
) -> None:
    response = call(client_for(partner_key), method, path, body)
    assert response.status_code == ok, response.content


def test_a_partner_can_neither_read_nor_write_another_partners_member_accounts(
    member: MemberAccount, partner: Partner, outsider: Partner, outsider_key: Key
) -> None:
    client = client_for(outsider_key)
    before = base_state()

    assert_error(client.get(detail_path("M-0001")), 404, "not_found")
    assert_error(
        client.patch(detail_path("M-0001"), {"name": "x"}, format="json"), 404, "not_found"
    )
    assert_error(client.post(detail_path("M-0001") + "/deactivate"), 404, "not_found")
    assert numbers(client.get(MEMBERS)) == []
    assert numbers(client.get(MEMBERS, {"status": "active", "kind": "household"})) == []
    assert base_state() == before

    # The outsider's base is its own: the same number is simply a new account there.
    mine = created(outsider_key, record("M-0001", name="Outsider's own"))
    assert mine["personal"]["name"] == "Outsider's own"
    outcome = bulk(outsider_key, [record("M-0001", name="Again"), record("M-0002")])
    assert outcome.json()["results"] == [
        {"member_number": "M-0001", "outcome": "updated"},
        {"member_number": "M-0002", "outcome": "created"},
    ]
    assert numbers(client.get(MEMBERS)) == ["M-0001", "M-0002"]
    # ...and the partner's account of that number is untouched by all of it.
    theirs = member_of(partner, "M-0001")
    assert open_member(theirs)["name"] == "山田 太郎"
    assert theirs.updated_at == member.updated_at
    assert MemberAccount.objects.filter(partner=outsider).count() == 2


# --- Cannot learn whether a person is a member elsewhere --------------------------------------


def masked(response: Any) -> dict[str, Any]:
    """The body with what legitimately differs between two new members blanked out."""
    body: dict[str, Any] = response.json()
    body["member_number"] = body["created_at"] = body["updated_at"] = "*"
    body["personal"]["email"] = "*"
    return body


def test_creating_a_member_who_is_a_member_elsewhere_looks_like_creating_anyone(
    outsider: Partner, outsider_key: Key, partner: Partner, partner_key: Key
) -> None:
    created(outsider_key, record("O-1", email="shared@example.jp"))

    known = create(partner_key, record("P-1", email="shared@example.jp"))
    fresh = create(partner_key, record("P-2", email="unique@example.jp"))

    # The alliance did link the two accounts, so the test compares a real match with no match.
    elsewhere = member_of(outsider, "O-1")
    linked = member_of(partner, "P-1")
    unlinked = member_of(partner, "P-2")
    assert linked.person_id == elsewhere.person_id is not None
    assert unlinked.person_id not in (None, elsewhere.person_id)

    assert known.status_code == fresh.status_code == 201
    assert masked(known) == masked(fresh)
    assert len(known.content) == len(fresh.content)
    assert set(known.headers) == set(fresh.headers)
    for response in (
        known,
        fresh,
        client_for(partner_key).get(detail_path("P-1")),
        client_for(partner_key).get(MEMBERS),
    ):
        assert "person" not in keys_anywhere(response.json())
        for person_id in (linked.person_id, unlinked.person_id):
            assert person_id is not None
            assert str(person_id) not in response.content.decode()
            assert person_id.hex not in response.content.decode()
    details = [client_for(partner_key).get(detail_path(n)) for n in ("P-1", "P-2")]
    assert masked(details[0]) == masked(details[1])


def test_another_partners_members_never_show_in_the_partners_own_base(
    partner_key: Key, outsider_key: Key
) -> None:
    created(partner_key, full_record("P-1", email="shared@example.jp"))
    client = client_for(partner_key)
    since = {"updated_since": (timezone.now() - timedelta(seconds=1)).isoformat()}

    def view() -> list[bytes]:
        return [
            client.get(MEMBERS).content,
            client.get(MEMBERS, since).content,
            client.get(detail_path("P-1")).content,
        ]

    before = view()
    # The same person joins the outsider, by create, bulk and update: matching links the
    # accounts, and the partner's own account must not so much as change its updated_at.
    created(outsider_key, full_record("O-1", email="shared@example.jp"))
    bulk(outsider_key, [full_record("O-2", phone="090-1234-5678", email=None)])
    client_for(outsider_key).patch(detail_path("O-1"), {"name": "同一人物"}, format="json")
    assert view() == before


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("get", "", None), ("patch", "", {"name": "x"}), ("post", "/deactivate", None)],
    ids=["detail", "update", "deactivate"],
)
def test_another_partners_number_is_answered_like_a_missing_one(
    partner_key: Key, outsider_key: Key, method: str, suffix: str, body: Any
) -> None:
    created(outsider_key, record("O-1"))
    client = client_for(partner_key)

    theirs = call(client, method, detail_path("O-1") + suffix, body)
    missing = call(client, method, detail_path("O-2") + suffix, body)

    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content  # neither names the number


# --- Create -------------------------------------------------------------------------------------


def test_create_answers_with_the_detail(partner_key: Key) -> None:
    body = created(partner_key, full_record("M-0001"))

    assert set(body) == {*SUMMARY_FIELDS, "personal"}
    assert body["member_number"] == "M-0001"
    assert body["kind"] == "household"
    assert body["status"] == "active"
    assert body["prefecture"] == "13"  # from the address
    assert body["joined_on"] == "2020-01-15"
    assert body["personal"] == {
        "name": "山田 太郎",
        "name_kana": "ヤマダ タロウ",
        "email": "m-0001@example.jp",
        "phone": "09012345678",
        "postal_code": "150-0001",
        "address": "東京都渋谷区神宮前1-1-1",
        "birth_date": "1990-04-01",
    }
    today = timezone.localdate()
    age = today.year - 1990
    assert body["age_band"] == f"{age // 10 * 10}-{age // 10 * 10 + 9}"


def test_only_the_required_fields_make_a_member(partner_key: Key) -> None:
    body = created(partner_key, record("M-0001"))
    assert body["personal"] == {**dict.fromkeys(PERSONAL_FIELDS), "name": "山田 太郎"}
    assert body["age_band"] is None
    assert body["prefecture"] == ""


def test_the_input_takes_exactly_the_import_columns() -> None:
    assert tuple(MemberRecordInput().fields) == COLUMNS
    required = {name for name, f in MemberRecordInput().fields.items() if f.required}
    assert required == {"member_number", "kind", "name"}
    assert tuple(MemberDetailApi.MemberDetailInput().fields) == COLUMNS
    assert not any(f.required for f in MemberDetailApi.MemberDetailInput().fields.values())


def test_a_taken_member_number_is_a_conflict(partner: Partner, partner_key: Key) -> None:
    created(partner_key, record("M-0001"))
    before = base_state()
    error = assert_error(create(partner_key, record(WIDE_M_0001, name="別人")), 409, "conflict")
    assert "member_number" in error["fields"]
    assert base_state() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (record(email="not-an-email"), "email"),
        (record(email="taro@@example.jp"), "email"),
        (record(phone="12345"), "phone"),
        (record(phone="090-1234-567"), "phone"),
        (record(postal_code="123"), "postal_code"),
        (record(birth_date="1990-13-01"), "birth_date"),
        (record(joined_on="2999-01-01"), "joined_on"),
        (record(prefecture="Atlantis"), "prefecture"),
        (record(person="00000000-0000-0000-0000-000000000000"), "person"),
        (record(partner="someone-else"), "partner"),
        (record(nickname="Taro"), "nickname"),
        ({"member_number": "M-1", "kind": "household"}, "name"),
        (record(name="   "), "name"),
        (record(name=None), "name"),
        (record(kind="person"), "kind"),
        (record(kind=None), "kind"),
        ({"member_number": "M-1", "name": "x"}, "kind"),
        (record(status="erased"), "status"),
        (record("M 1"), "member_number"),
        (record("x" * 65), "member_number"),
        (record(name=["山田"]), "name"),
        (record(email={"address": "a@example.jp"}), "email"),
    ],
)
def test_invalid_members_are_refused(partner_key: Key, body: dict[str, Any], field: str) -> None:
    audit_before = AuditEvent.objects.count()
    error = assert_error(create(partner_key, body), 400, "validation_failed")
    assert field in error["fields"], error
    assert MemberAccount.objects.count() == 0
    assert AuditEvent.objects.count() == audit_before


def test_a_partner_without_a_member_base_cannot_create_members(alliance_manager: Any) -> None:
    no_base = make_partner("no-base-co", holds_customer_data=False)
    key = Key(no_base, issue_key(no_base).plaintext)
    assert_error(create(key, record()), 409, "conflict")
    assert_error(bulk(key, [record()]), 409, "conflict")
    assert MemberAccount.objects.count() == 0


def test_a_retried_create_runs_once_and_replays_its_answer(partner_key: Key) -> None:
    body = full_record("M-0001")
    first = create(partner_key, body, HTTP_IDEMPOTENCY_KEY="member-1")
    again = create(partner_key, body, HTTP_IDEMPOTENCY_KEY="member-1")

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    # Personal data is not kept for replay: a replay is the first answer without it.
    assert again.json() == {k: v for k, v in first.json().items() if k != "personal"}
    assert MemberAccount.objects.count() == 1
    stored = json.dumps(IdempotencyKey.objects.get(key="member-1").response_body)
    assert "m-0001@example.jp" not in stored
    assert "山田" not in stored
    assert "\\u5c71\\u7530" not in stored  # 山田, as json.dumps escapes it


def test_a_retried_deactivation_replays_without_personal_data(
    member: MemberAccount, partner_key: Key
) -> None:
    path = detail_path("M-0001") + "/deactivate"
    first = client_for(partner_key).post(path, HTTP_IDEMPOTENCY_KEY="off-1")
    again = client_for(partner_key).post(path, HTTP_IDEMPOTENCY_KEY="off-1")
    assert first.json()["personal"]["email"] == "m-0001@example.jp"
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == {k: v for k, v in first.json().items() if k != "personal"}
    assert "m-0001@example.jp" not in json.dumps(IdempotencyKey.objects.get().response_body)


def test_personal_data_is_sealed_at_rest_and_stored_normalised(
    partner: Partner, partner_key: Key
) -> None:
    body = created(partner_key, record("M-0001", email=WIDE_EMAIL, phone="+81 90 1234 5678"))
    assert body["personal"]["email"] == "taro@example.jp"

    row = MemberAccount.objects.filter(partner=partner, member_number="M-0001").values().get()
    assert row["email_sealed"] is not None
    for value in row.values():
        raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
        for plaintext in ("taro@example.jp", "taro", WIDE_TARO, "09012345678", "山田"):
            assert plaintext.encode() not in raw.lower()

    member = member_of(partner, "M-0001")
    assert open_member(member)["email"] == "taro@example.jp"
    assert open_member(member)["phone"] == "09012345678"


# --- Detail, update, deactivate, erase ----------------------------------------------------------


def test_detail_shows_the_personal_data_and_no_person(
    member: MemberAccount, partner_key: Key
) -> None:
    body = client_for(partner_key).get(detail_path("M-0001")).json()
    assert set(body) == {*SUMMARY_FIELDS, "personal"}
    assert body["personal"]["email"] == "m-0001@example.jp"
    assert "person" not in keys_anywhere(body)


def test_a_member_number_is_found_in_any_width(member: MemberAccount, partner_key: Key) -> None:
    response = client_for(partner_key).get(detail_path(WIDE_M_0001))
    assert response.status_code == 200
    assert response.json()["member_number"] == "M-0001"


def test_update_changes_only_what_was_sent(member: MemberAccount, partner_key: Key) -> None:
    client = client_for(partner_key)
    before = client.get(detail_path("M-0001")).json()

    response = client.patch(detail_path("M-0001"), {"phone": "03-1234-5678"}, format="json")

    assert response.status_code == 200, response.content
    after = response.json()
    assert after["personal"] == {**before["personal"], "phone": "0312345678"}
    unchanged = SUMMARY_FIELDS - {"updated_at"}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert after["updated_at"] > before["updated_at"]
    assert client.get(detail_path("M-0001")).json() == after


def test_update_clears_an_optional_field_sent_as_null(
    member: MemberAccount, partner_key: Key
) -> None:
    response = client_for(partner_key).patch(
        detail_path("M-0001"), {"email": None, "birth_date": ""}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["personal"]["email"] is None
    assert response.json()["personal"]["birth_date"] is None
    assert response.json()["age_band"] is None
    assert member_of(member.partner, "M-0001").email_index is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"member_number": "M-0002"}, "member_number"),
        ({"email": "nope"}, "email"),
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"status": "erased"}, "status"),
        ({"kind": "person"}, "kind"),
        ({"person": None}, "person"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_invalid_updates_are_refused_and_change_nothing(
    member: MemberAccount, partner_key: Key, body: dict[str, Any], field: str
) -> None:
    before = base_state()
    response = client_for(partner_key).patch(detail_path("M-0001"), body, format="json")
    error = assert_error(response, 400, "validation_failed")
    assert field in error["fields"]
    assert base_state() == before


def test_sending_the_unchanged_member_number_is_allowed(
    member: MemberAccount, partner_key: Key
) -> None:
    response = client_for(partner_key).patch(
        detail_path("M-0001"), {"member_number": "M-0001", "kind": "business"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["kind"] == "business"


def test_an_unchanged_member_number_in_another_width_is_still_unchanged(
    member: MemberAccount, partner_key: Key
) -> None:
    # The number is found in any width (access normalises it) and created in any width
    # (clean_member normalises it), so sending it back unchanged in a record must be allowed:
    # member_update has to compare the normalised number, not the raw one, with the stored one.
    response = client_for(partner_key).patch(
        detail_path("M-0001"), {"member_number": WIDE_M_0001, "name": "山田 花子"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["member_number"] == "M-0001"
    assert response.json()["personal"]["name"] == "山田 花子"


def test_changing_the_address_moves_a_prefecture_that_came_from_the_address(
    partner: Partner, partner_key: Key
) -> None:
    # The prefecture was never sent: clean_member took it from the address. After the address
    # moves to Osaka the account must not stay in Tokyo, or segments by prefecture go wrong,
    # and the bulk door, given the same record, says 27. member_update must not re-validate a
    # derived prefecture as if the partner had sent it.
    created(partner_key, record("M-0001", address="東京都渋谷区神宮前1-1-1"))
    response = client_for(partner_key).patch(
        detail_path("M-0001"), {"address": "大阪府大阪市北区梅田1-1-1"}, format="json"
    )
    assert response.status_code == 200, response.content

    by_bulk = bulk(partner_key, [record("M-0002", address="大阪府大阪市北区梅田1-1-1")])
    assert by_bulk.status_code == 200
    osaka = client_for(partner_key).get(detail_path("M-0002")).json()["prefecture"]
    assert osaka == "27"
    assert response.json()["prefecture"] == osaka


def test_deactivate_and_reactivate(member: MemberAccount, partner_key: Key) -> None:
    client = client_for(partner_key)
    response = client.post(detail_path("M-0001") + "/deactivate")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "inactive"
    assert response.json()["personal"]["email"] == "m-0001@example.jp"
    assert member_of(member.partner, "M-0001").status == "inactive"
    assert numbers(client.get(MEMBERS, {"status": "inactive"})) == ["M-0001"]

    again = client.post(detail_path("M-0001") + "/deactivate")
    assert again.status_code == 200
    assert again.json()["status"] == "inactive"

    response = client.patch(detail_path("M-0001"), {"status": "active"}, format="json")
    assert response.json()["status"] == "active"


def test_an_erased_account_shows_no_personal_data_and_cannot_be_written(
    member: MemberAccount, partner_key: Key
) -> None:
    services.member_erase(member=member, actor=Actor.system())
    client = client_for(partner_key)

    body = client.get(detail_path("M-0001")).json()
    assert body["status"] == "erased"
    assert body["personal"] == dict.fromkeys(PERSONAL_FIELDS)
    assert body["age_band"] is None
    assert body["member_number"] == "M-0001"

    before = base_state()
    response = client.patch(detail_path("M-0001"), {"name": "復活"}, format="json")
    assert_error(response, 409, "conflict")
    assert_error(client.post(detail_path("M-0001") + "/deactivate"), 409, "conflict")
    error = assert_error(bulk(partner_key, [record("M-0001")]), 400, "validation_failed")
    assert "members[0].member_number" in error["fields"]
    assert_error(create(partner_key, record("M-0001")), 409, "conflict")
    assert base_state() == before


# --- List ---------------------------------------------------------------------------------------


def test_the_list_has_no_personal_data(member: MemberAccount, partner_key: Key) -> None:
    response = client_for(partner_key).get(MEMBERS)
    (item,) = response.json()["results"]
    assert set(item) == SUMMARY_FIELDS
    assert item["prefecture"] == "13"
    text = response.content.decode()
    for value in open_member(member).values():
        assert value is not None
        assert value not in text


def test_the_list_filters_by_kind_status_and_time(partner: Partner, partner_key: Key) -> None:
    created(partner_key, record("M-1"))
    created(partner_key, record("M-2", kind="business"))
    created(partner_key, record("M-3", status="inactive"))
    MemberAccount.objects.update(updated_at=timezone.now() - timedelta(days=2))
    client = client_for(partner_key)
    client.patch(detail_path("M-2"), {"name": "changed"}, format="json")

    assert numbers(client.get(MEMBERS)) == ["M-1", "M-2", "M-3"]
    assert numbers(client.get(MEMBERS, {"kind": "business"})) == ["M-2"]
    assert numbers(client.get(MEMBERS, {"status": "inactive"})) == ["M-3"]
    assert numbers(client.get(MEMBERS, {"kind": "household", "status": "active"})) == ["M-1"]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert numbers(client.get(MEMBERS, {"updated_since": since})) == ["M-2"]
    assert numbers(client.get(MEMBERS, {"updated_since": "2000-01-01T00:00:00+09:00"})) == [
        "M-1",
        "M-2",
        "M-3",
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"updated_since": "2026-13-01T00:00:00Z"}, "updated_since"),
        ({"kind": "person"}, "kind"),
        ({"status": "deleted"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
    ],
)
def test_bad_list_parameters_are_refused(
    member: MemberAccount, partner_key: Key, params: dict[str, str], field: str
) -> None:
    error = assert_error(client_for(partner_key).get(MEMBERS, params), 400, "validation_failed")
    assert field in error["fields"]


def test_the_list_pages_through_a_bulk_upsert_in_member_number_order(partner_key: Key) -> None:
    # Every row of one bulk upsert has the same created_at; the cursor must still be exact.
    records = [record(f"M-{n:04d}") for n in range(120, 0, -1)]
    assert bulk(partner_key, records).status_code == 200
    client = client_for(partner_key)

    seen: list[str] = []
    response = client.get(MEMBERS, {"limit": 50})
    while True:
        seen += numbers(response)
        link = response.json()["next"]
        if link is None:
            break
        response = client.get(link)
    assert seen == [f"M-{n:04d}" for n in range(1, 121)]


def test_a_bad_cursor_is_refused(member: MemberAccount, partner_key: Key) -> None:
    for cursor in ("not base64!", "bz14"):  # bz14 is "o=x": an offset that is no number
        response = client_for(partner_key).get(MEMBERS, {"cursor": cursor})
        assert_error(response, 400, "invalid_request")


def test_the_list_costs_the_same_queries_for_any_page_size(partner_key: Key) -> None:
    assert bulk(partner_key, [full_record(f"M-{n:03d}") for n in range(60)]).status_code == 200
    client = client_for(partner_key)
    client.get(MEMBERS, {"limit": 1})  # records the key's last use, once

    with CaptureQueriesContext(connection) as few:
        assert len(numbers(client.get(MEMBERS, {"limit": 2}))) == 2
    with CaptureQueriesContext(connection) as many:
        assert len(numbers(client.get(MEMBERS, {"limit": 60}))) == 60

    assert len(many) == len(few)
    assert len(many) <= 4, [q["sql"] for q in many.captured_queries]
    member_queries = [q["sql"] for q in many.captured_queries if "memberaccount" in q["sql"]]
    assert len(member_queries) == 1
    assert "_sealed" not in member_queries[0]  # no ciphertext is even read for a list


# --- Bulk ---------------------------------------------------------------------------------------


def test_bulk_creates_updates_and_reports_unchanged(partner: Partner, partner_key: Key) -> None:
    created(partner_key, full_record("M-0002"))
    created(partner_key, full_record("M-0003"))

    response = bulk(
        partner_key,
        [
            full_record("M-0001"),
            full_record("M-0002", phone="03-0000-0000"),
            full_record("M-0003"),
        ],
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "created": 1,
        "updated": 1,
        "unchanged": 1,
        "results": [
            {"member_number": "M-0001", "outcome": "created"},
            {"member_number": "M-0002", "outcome": "updated"},
            {"member_number": "M-0003", "outcome": "unchanged"},
        ],
    }
    assert open_member(member_of(partner, "M-0002"))["phone"] == "0300000000"
    assert open_member(member_of(partner, "M-0001"))["email"] == "m-0001@example.jp"


def test_bulk_resent_unchanged_changes_nothing(partner: Partner, partner_key: Key) -> None:
    records = [full_record(f"M-{n:04d}") for n in range(1, 4)]
    assert bulk(partner_key, records).json()["created"] == 3
    MemberAccount.objects.update(updated_at=timezone.now() - timedelta(days=1))
    before = base_state()

    response = bulk(partner_key, records)

    assert response.status_code == 200
    assert response.json()["unchanged"] == 3
    assert response.json()["created"] == response.json()["updated"] == 0
    assert {r["outcome"] for r in response.json()["results"]} == {"unchanged"}
    assert base_state() == before  # updated_at not bumped, nothing re-sealed


def test_bulk_with_one_bad_item_writes_nothing(partner: Partner, partner_key: Key) -> None:
    created(partner_key, full_record("M-0001"))
    before = base_state()
    audit_before = AuditEvent.objects.count()

    response = bulk(
        partner_key,
        [
            full_record("M-0001", name="changed"),
            full_record("M-0002"),
            full_record("M-0003", email="broken"),
            full_record("M-0004", phone="1"),
        ],
    )

    error = assert_error(response, 400, "validation_failed")
    assert set(error["fields"]) == {"members[2].email", "members[3].phone"}
    assert base_state() == before
    assert MemberAccount.objects.filter(partner=partner).count() == 1
    assert AuditEvent.objects.count() == audit_before


def test_bulk_items_are_strict_and_typed(partner_key: Key) -> None:
    response = bulk(
        partner_key,
        [record("M-1"), record("M-2", person="x"), "M-3", record("M-4", kind="person")],
    )
    error = assert_error(response, 400, "validation_failed")
    assert set(error["fields"]) == {"members[1].person", "members[2]", "members[3].kind"}
    assert MemberAccount.objects.count() == 0


def test_bulk_refuses_repeated_member_numbers(partner_key: Key) -> None:
    response = bulk(partner_key, [record("M-1"), record("M-2"), record(WIDE_M_1)])
    error = assert_error(response, 400, "validation_failed")
    assert set(error["fields"]) == {"members[2].member_number"}
    assert MemberAccount.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"members": []}, "members"),
        ({"members": {"M-1": record()}}, "members"),
        ({}, "members"),
        ({"members": [record()], "mode": "create"}, "mode"),
    ],
)
def test_bulk_body_shape_is_checked(partner_key: Key, body: dict[str, Any], field: str) -> None:
    response = client_for(partner_key).post(BULK, body, format="json")
    error = assert_error(response, 400, "validation_failed")
    assert field in error["fields"]
    assert MemberAccount.objects.count() == 0


def test_bulk_takes_at_most_a_thousand_members(partner_key: Key) -> None:
    records = [{"member_number": f"M-{n}", "kind": "business", "name": "x"} for n in range(1001)]
    assert MAX_BULK_MEMBERS == 1000

    error = assert_error(bulk(partner_key, records), 400, "validation_failed")

    assert set(error["fields"]) == {"members"}
    assert MemberAccount.objects.count() == 0


def test_bulk_takes_a_thousand_members(partner_key: Key) -> None:
    records = [{"member_number": f"M-{n}", "kind": "business", "name": "x"} for n in range(1000)]
    response = bulk(partner_key, records)
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1000
    assert MemberAccount.objects.count() == 1000


def test_a_bulk_record_is_a_full_record(partner: Partner, partner_key: Key) -> None:
    created(partner_key, full_record("M-0001", status="inactive"))
    response = bulk(partner_key, [record("M-0001")])
    assert response.json()["updated"] == 1
    body = client_for(partner_key).get(detail_path("M-0001")).json()
    assert body["status"] == "active"
    assert body["personal"]["email"] is None
    assert body["joined_on"] is None
