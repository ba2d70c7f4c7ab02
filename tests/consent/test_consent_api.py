"""The consent API: recording and withdrawing consent for a partner's own members, the receipt,
who may record what, and the check a partner asks before it uses member data."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.models import ConsentEvent, ConsentState, PrivacyNotice
from consent.services import notice_publish
from partners.actors import Actor
from partners.models import MemberAccount, Partner
from tests.conftest import Key, client_for
from tests.factories import make_member, make_notice

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def notice(host: Partner, partner: Partner) -> PrivacyNotice:
    options: dict[str, Any] = {
        "version": 1,
        "purposes": ["cross_enrollment", "co_marketing_contact"],
        "recipients": [host, partner],
        "data_items": ["name", "email"],
        "effective_at": timezone.now() - timedelta(days=1),
    }
    notice_publish(
        language="en", text="Kirari shares what you agreed to.", **options, actor=Actor.system()
    )
    return notice_publish(
        language="ja",
        text="きらりホームサービスは同意いただいた項目を提供します。",
        **options,
        actor=Actor.system(),
    )


@pytest.fixture
def host_member(host: Partner) -> MemberAccount:
    return make_member(host, "K-1")


@pytest.fixture
def brand_member(partner: Partner) -> MemberAccount:
    return make_member(partner, "BC-1")


def _when(minutes_ago: int = 1) -> str:
    return (timezone.now().astimezone(TOKYO) - timedelta(minutes=minutes_ago)).isoformat()


def _grant_body(notice: PrivacyNotice, recipient: Partner, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "purpose": "cross_enrollment",
        "recipient": recipient.slug,
        "notice": str(notice.pk),
        "channel": "partner_app",
        "occurred_at": _when(),
    }
    body.update(changes)
    return {name: value for name, value in body.items() if value is not None}


def _grant(key: Key, number: str, body: dict[str, Any], **headers: Any) -> Any:
    return client_for(key).post(
        f"/api/v1/members/{number}/consents", body, format="json", **headers
    )


def _withdraw(key: Key, number: str, recipient: Partner, **changes: Any) -> Any:
    body = {
        "purpose": "cross_enrollment",
        "recipient": recipient.slug,
        "channel": "partner_app",
        "occurred_at": _when(0),
        **changes,
    }
    return client_for(key).post(f"/api/v1/members/{number}/consents/withdraw", body, format="json")


def _check(key: Key, numbers: list[str], purpose: str = "cross_enrollment", **headers: Any) -> Any:
    return client_for(key).post(
        "/api/v1/consent/check", {"purpose": purpose, "members": numbers}, format="json", **headers
    )


def _written() -> tuple[int, int]:
    return ConsentEvent.objects.count(), ConsentState.objects.count()


def _refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


# --- Catalogue and notices --------------------------------------------------------------------


def test_the_purpose_catalogue_lists_every_purpose_in_both_languages(
    partner_read_key: Key,
) -> None:
    response = client_for(partner_read_key).get("/api/v1/consent/purposes")

    assert response.status_code == 200
    purposes = {item["code"]: item for item in response.json()["results"]}
    assert {"cross_enrollment", "co_marketing_contact", "overlap_matching"} <= set(purposes)
    assert set(purposes["cross_enrollment"]) == {
        "code",
        "name_ja",
        "name_en",
        "description_ja",
        "description_en",
    }
    assert purposes["cross_enrollment"]["name_en"] == "Cross-enrollment"


def test_the_current_notices_are_the_newest_version_in_each_language(
    partner_read_key: Key, notice: PrivacyNotice, host: Partner
) -> None:
    # A future version is not in effect yet.
    make_notice(
        version=2,
        text="次の版",
        purposes=["cross_enrollment"],
        recipients=[host],
        data_items=["name"],
        effective_at=timezone.now() + timedelta(days=30),
    )

    response = client_for(partner_read_key).get("/api/v1/consent/notices/current")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(item["version"], item["language"]) for item in results] == [(1, "en"), (1, "ja")]
    ja = results[1]
    assert ja["id"] == str(notice.pk)
    assert ja["content_sha256"] == notice.content_sha256
    assert ja["text"] == notice.text
    assert ja["conditions"] == {
        "purposes": ["co_marketing_contact", "cross_enrollment"],
        "recipients": ["brand-co", "host-co"],
        "data_items": ["email", "name"],
    }


# --- Recording ---------------------------------------------------------------------------------


def test_the_host_records_a_consent_for_a_partner_and_gets_a_receipt(
    host_key: Key, host_member: MemberAccount, notice: PrivacyNotice, partner: Partner
) -> None:
    expires = (timezone.now() + timedelta(days=365)).astimezone(TOKYO).replace(microsecond=0)
    occurred = timezone.now().astimezone(TOKYO).replace(microsecond=0) - timedelta(minutes=2)
    body = _grant_body(
        notice,
        partner,
        channel="host_portal",
        occurred_at=occurred.isoformat(),
        expires_at=expires.isoformat(),
    )

    response = _grant(host_key, "K-1", body)

    assert response.status_code == 201, response.content
    receipt = response.json()
    event = ConsentEvent.objects.get()
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["jurisdiction"] == "JP"
    assert receipt["consentTimestamp"] == int(occurred.timestamp())
    assert receipt["collectionMethod"] == "host_portal"
    assert receipt["consentReceiptID"] == str(event.pk)
    assert receipt["publicKey"] is None
    assert receipt["language"] == "ja"
    assert receipt["piiPrincipalId"] == "host-co:K-1"
    assert receipt["piiControllers"] == [{"piiController": "Host Co"}]
    assert receipt["policyUrl"] is None
    assert receipt["sensitive"] is False
    assert receipt["spiCat"] == []
    assert receipt["chainHash"] == event.hash
    assert receipt["sequence"] == event.sequence == 1
    (service,) = receipt["services"]
    assert service["service"] == "cross_enrollment"
    (purpose,) = service["purposes"]
    assert purpose["purpose"] == "相互会員登録"  # the notice the member saw was in Japanese
    assert purpose["consentType"] == "EXPLICIT"
    assert purpose["piiCategory"] == ["email", "name"]
    assert purpose["primaryPurpose"] is True
    assert purpose["thirdPartyDisclosure"] is True
    assert purpose["thirdPartyName"] == "Brand Co"
    assert datetime.fromisoformat(purpose["termination"]) == expires
    # What was recorded is what was sent, captured by the host's key.
    assert event.member == host_member
    assert event.recipient == partner
    assert event.notice == notice
    assert event.occurred_at == occurred
    assert event.expires_at == expires
    assert event.captured_by_partner is not None
    assert event.captured_by_partner.slug == "host-co"


def test_a_consent_without_expiry_terminates_on_withdrawal(
    host_key: Key, host_member: MemberAccount, notice: PrivacyNotice, host: Partner
) -> None:
    response = _grant(host_key, "K-1", _grant_body(notice, host, channel="host_portal"))

    assert response.status_code == 201, response.content
    assert response.json()["services"][0]["purposes"][0]["termination"] == "on withdrawal"


def test_a_brand_records_a_consent_it_collected_for_itself(
    partner_key: Key, brand_member: MemberAccount, notice: PrivacyNotice, partner: Partner
) -> None:
    response = _grant(partner_key, "BC-1", _grant_body(notice, partner, channel="partner_app"))

    assert response.status_code == 201, response.content
    assert response.json()["piiPrincipalId"] == "brand-co:BC-1"
    assert response.json()["piiControllers"] == [{"piiController": "Brand Co"}]
    state = ConsentState.objects.get()
    assert (state.member, state.recipient, state.granted) == (brand_member, partner, True)


def test_a_brand_may_not_record_a_consent_for_another_recipient(
    partner_key: Key, brand_member: MemberAccount, notice: PrivacyNotice, host: Partner
) -> None:
    response = _grant(partner_key, "BC-1", _grant_body(notice, host))

    error = _refused(response, 403, "permission_denied")
    assert "itself as the recipient" in error["message"]
    assert _written() == (0, 0)


@pytest.mark.parametrize("record", ["grant", "withdraw"])
def test_a_brand_cannot_tell_an_unknown_recipient_from_a_forbidden_one(
    partner_key: Key,
    brand_member: MemberAccount,
    notice: PrivacyNotice,
    host: Partner,
    outsider: Partner,
    record: str,
) -> None:
    def answer(slug: str) -> tuple[int, dict[str, Any]]:
        if record == "grant":
            response = _grant(partner_key, "BC-1", {**_grant_body(notice, host), "recipient": slug})
        else:
            response = _withdraw(partner_key, "BC-1", Partner(slug=slug))
        return response.status_code, response.json()

    answers = {slug: answer(slug) for slug in (host.slug, outsider.slug, "no-such-co")}

    assert answers[host.slug] == answers[outsider.slug] == answers["no-such-co"]
    assert answers["no-such-co"][0] == 403
    assert _written() == (0, 0)


@pytest.mark.parametrize("channel", ["host_portal", "preference_page"])
def test_a_brand_may_not_record_through_a_channel_that_is_not_its_own(
    partner_key: Key,
    brand_member: MemberAccount,
    notice: PrivacyNotice,
    partner: Partner,
    channel: str,
) -> None:
    response = _grant(partner_key, "BC-1", _grant_body(notice, partner, channel=channel))

    _refused(response, 403, "permission_denied")
    assert _written() == (0, 0)


def test_not_even_the_host_records_through_the_preference_page_channel(
    host_key: Key, host_member: MemberAccount, notice: PrivacyNotice, partner: Partner
) -> None:
    response = _grant(host_key, "K-1", _grant_body(notice, partner, channel="preference_page"))

    _refused(response, 403, "permission_denied")
    assert _written() == (0, 0)


def test_another_partners_member_is_not_found(
    outsider_key: Key, brand_member: MemberAccount, notice: PrivacyNotice, outsider: Partner
) -> None:
    response = _grant(outsider_key, "BC-1", _grant_body(notice, outsider))

    _refused(response, 404, "not_found")
    assert _written() == (0, 0)
    listing = client_for(outsider_key).get("/api/v1/members/BC-1/consents")
    assert listing.content == response.content
    withdrawal = _withdraw(outsider_key, "BC-1", outsider)
    assert withdrawal.content == response.content


def test_a_read_only_key_may_not_record_a_consent(
    partner_read_key: Key, brand_member: MemberAccount, notice: PrivacyNotice, partner: Partner
) -> None:
    response = _grant(partner_read_key, "BC-1", _grant_body(notice, partner))

    _refused(response, 403, "insufficient_scope")
    assert _written() == (0, 0)


def _superseded(notice: PrivacyNotice, host: Partner, partner: Partner) -> PrivacyNotice:
    # A new version that adds a data item: earlier notices no longer support a new consent.
    make_notice(
        version=2,
        text="住所も提供します。",
        purposes=["cross_enrollment", "co_marketing_contact"],
        recipients=[host, partner],
        data_items=["name", "email", "address"],
        effective_at=timezone.now() - timedelta(minutes=5),
    )
    return notice


BAD_GRANTS: dict[str, tuple[dict[str, Any], str]] = {
    "unknown purpose": ({"purpose": "selling_lists"}, "purpose"),
    "naive time": ({"occurred_at": "2026-11-01T10:00:00"}, "occurred_at"),
    "future time": ({"occurred_at": "2099-11-01T10:00:00+09:00"}, "occurred_at"),
    "missing channel": ({"channel": None}, "channel"),
    "unknown channel": ({"channel": "carrier_pigeon"}, "channel"),
    "unknown recipient": ({"recipient": "no-such-co"}, "recipient"),
    "unknown notice": ({"notice": "0b5f3c1e-0000-4000-8000-000000000000"}, "notice"),
    "superseded notice": ({}, "notice"),
    "extra field": ({"granted_by": "someone else"}, "granted_by"),
    "expiry before grant": ({"expires_at": "2020-01-01T00:00:00+09:00"}, "expires_at"),
    "naive expiry": ({"expires_at": "2099-01-01T00:00:00"}, "expires_at"),
    "bad jurisdiction": ({"jurisdiction": "japan"}, "jurisdiction"),
}


@pytest.mark.parametrize("case", list(BAD_GRANTS), ids=list(BAD_GRANTS))
def test_a_bad_consent_is_refused_and_changes_nothing(
    host_key: Key,
    host_member: MemberAccount,
    notice: PrivacyNotice,
    host: Partner,
    partner: Partner,
    case: str,
) -> None:
    changes, field = BAD_GRANTS[case]
    if case == "superseded notice":
        _superseded(notice, host, partner)
    body = {**_grant_body(notice, partner, channel="host_portal"), **changes}
    body = {name: value for name, value in body.items() if value is not None}

    response = _grant(host_key, "K-1", body)

    error = _refused(response, 400, "validation_failed")
    assert field in error["fields"], error
    assert _written() == (0, 0)


def test_a_retried_consent_with_the_same_idempotency_key_is_recorded_once(
    partner_key: Key, brand_member: MemberAccount, notice: PrivacyNotice, partner: Partner
) -> None:
    body = _grant_body(notice, partner)

    first = _grant(partner_key, "BC-1", body, HTTP_IDEMPOTENCY_KEY="consent-1")
    again = _grant(partner_key, "BC-1", body, HTTP_IDEMPOTENCY_KEY="consent-1")

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert ConsentEvent.objects.count() == 1


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_consent_events_cannot_be_changed_or_deleted_through_the_api(
    partner_key: Key,
    brand_member: MemberAccount,
    notice: PrivacyNotice,
    partner: Partner,
    method: str,
) -> None:
    assert _grant(partner_key, "BC-1", _grant_body(notice, partner)).status_code == 201
    before = list(ConsentEvent.objects.values_list("pk", "hash", "action"))
    client = client_for(partner_key)

    for path in ("/api/v1/members/BC-1/consents", "/api/v1/members/BC-1/consents/withdraw"):
        response = getattr(client, method)(path, {"granted": False}, format="json")
        _refused(response, 405, "method_not_allowed")

    assert list(ConsentEvent.objects.values_list("pk", "hash", "action")) == before


# --- Reading and withdrawing -------------------------------------------------------------------


def test_the_consent_list_shows_the_members_current_states(
    partner_read_key: Key,
    partner_key: Key,
    brand_member: MemberAccount,
    notice: PrivacyNotice,
    partner: Partner,
) -> None:
    _grant(partner_key, "BC-1", _grant_body(notice, partner))
    _grant(partner_key, "BC-1", _grant_body(notice, partner, purpose="co_marketing_contact"))
    assert (
        _withdraw(partner_key, "BC-1", partner, purpose="co_marketing_contact").status_code == 200
    )

    response = client_for(partner_read_key).get("/api/v1/members/BC-1/consents")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["purpose"], r["recipient"], r["granted"], r["notice_version"]) for r in results] == [
        ("co_marketing_contact", "brand-co", False, None),
        ("cross_enrollment", "brand-co", True, 1),
    ]
    assert results[1]["expires_at"] is None
    assert results[1]["changed_at"]


def test_a_withdrawal_is_in_force_for_the_next_check(
    partner_key: Key, brand_member: MemberAccount, notice: PrivacyNotice, partner: Partner
) -> None:
    assert _grant(partner_key, "BC-1", _grant_body(notice, partner)).status_code == 201
    assert _check(partner_key, ["BC-1"]).json()["results"][0]["reason"] == "consented"

    response = _withdraw(partner_key, "BC-1", partner)

    assert response.status_code == 200, response.content
    summary = response.json()
    event = ConsentEvent.objects.get(action="withdrawn")
    assert summary["id"] == str(event.pk)
    assert summary["member_number"] == "BC-1"
    assert summary["action"] == "withdrawn"
    assert (summary["purpose"], summary["recipient"]) == ("cross_enrollment", "brand-co")
    assert summary["sequence"] == 2
    assert summary["hash"] == event.hash
    assert summary["previous_hash"] == ConsentEvent.objects.get(sequence=1).hash
    assert _check(partner_key, ["BC-1"]).json()["results"] == [
        {"member_number": "BC-1", "allowed": False, "reason": "withdrawn"}
    ]


def test_withdrawing_a_consent_never_given_is_a_conflict(
    partner_key: Key, brand_member: MemberAccount, notice: PrivacyNotice, partner: Partner
) -> None:
    response = _withdraw(partner_key, "BC-1", partner)

    _refused(response, 409, "conflict")
    assert _written() == (0, 0)


def test_a_brand_may_not_withdraw_for_another_recipient(
    host_key: Key,
    partner_key: Key,
    brand_member: MemberAccount,
    notice: PrivacyNotice,
    host: Partner,
) -> None:
    response = _withdraw(partner_key, "BC-1", host)

    _refused(response, 403, "permission_denied")
    assert _written() == (0, 0)


def test_a_naive_withdrawal_time_is_refused(
    partner_key: Key, brand_member: MemberAccount, notice: PrivacyNotice, partner: Partner
) -> None:
    _grant(partner_key, "BC-1", _grant_body(notice, partner))

    response = _withdraw(partner_key, "BC-1", partner, occurred_at="2026-11-01T10:00:00")

    assert _refused(response, 400, "validation_failed")["fields"].keys() == {"occurred_at"}
    assert ConsentEvent.objects.count() == 1


# --- The check ---------------------------------------------------------------------------------


def test_the_check_answers_for_each_number_in_order(
    partner_read_key: Key,
    partner_key: Key,
    brand_member: MemberAccount,
    notice: PrivacyNotice,
    partner: Partner,
    outsider: Partner,
) -> None:
    make_member(partner, "BC-2")  # never consented
    make_member(outsider, "OC-1")  # another base: the caller cannot ask about it
    _grant(partner_key, "BC-1", _grant_body(notice, partner))

    full_width = "\uff22\uff23-\uff11"  # BC-1 in full-width letters and digits
    response = _check(partner_read_key, ["BC-1", "BC-2", "NOPE", "OC-1", full_width])

    assert response.status_code == 200, response.content
    assert response.json()["results"] == [
        {"member_number": "BC-1", "allowed": True, "reason": "consented"},
        {"member_number": "BC-2", "allowed": False, "reason": "not_consented"},
        {"member_number": "NOPE", "allowed": False, "reason": "not_found"},
        {"member_number": "OC-1", "allowed": False, "reason": "not_found"},
        # Full-width digits and letters find the account, as they do everywhere else.
        {"member_number": full_width, "allowed": True, "reason": "consented"},
    ]


def test_the_check_asks_about_the_caller_as_recipient_only(
    host_key: Key, host_member: MemberAccount, notice: PrivacyNotice, partner: Partner
) -> None:
    # The host recorded a consent for the brand: the host itself may not use it.
    _grant(host_key, "K-1", _grant_body(notice, partner, channel="host_portal"))

    assert _check(host_key, ["K-1"]).json()["results"][0]["reason"] == "not_consented"


def test_the_check_takes_a_constant_number_of_queries(
    partner_key: Key, notice: PrivacyNotice, partner: Partner
) -> None:
    numbers = [f"BC-{n}" for n in range(30)]
    for number in numbers:
        make_member(partner, number)
        _grant(partner_key, number, _grant_body(notice, partner))

    with CaptureQueriesContext(connection) as one:
        _check(partner_key, numbers[:1])
    with CaptureQueriesContext(connection) as thirty:
        response = _check(partner_key, numbers)

    assert all(r["allowed"] for r in response.json()["results"])
    assert len(thirty) == len(one)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"purpose": "cross_enrollment", "members": [f"M-{n}" for n in range(1001)]}, "members"),
        ({"purpose": "cross_enrollment", "members": []}, "members"),
        ({"purpose": "selling_lists", "members": ["BC-1"]}, "purpose"),
        ({"members": ["BC-1"]}, "purpose"),
        ({"purpose": "cross_enrollment", "members": ["BC-1"], "recipient": "host-co"}, "recipient"),
    ],
    ids=["1001 members", "no members", "unknown purpose", "no purpose", "another recipient"],
)
def test_a_bad_check_is_refused(partner_key: Key, body: dict[str, Any], field: str) -> None:
    response = client_for(partner_key).post("/api/v1/consent/check", body, format="json")

    assert field in _refused(response, 400, "validation_failed")["fields"]


def test_the_check_needs_no_idempotency_key_and_never_replays_an_old_answer(
    partner_key: Key, brand_member: MemberAccount, notice: PrivacyNotice, partner: Partner
) -> None:
    _grant(partner_key, "BC-1", _grant_body(notice, partner))
    before = _check(partner_key, ["BC-1"], HTTP_IDEMPOTENCY_KEY="check-1")
    _withdraw(partner_key, "BC-1", partner)

    after = _check(partner_key, ["BC-1"], HTTP_IDEMPOTENCY_KEY="check-1")

    assert before.json()["results"][0]["reason"] == "consented"
    assert after.status_code == 200
    assert "Idempotent-Replayed" not in after
    assert after.json()["results"][0]["reason"] == "withdrawn"


def test_a_consent_dated_before_its_notice_took_effect_is_refused(
    partner_key: Key, brand_member: MemberAccount, notice: PrivacyNotice, partner: Partner
) -> None:
    before_notice = (notice.effective_at - timedelta(days=30)).astimezone(TOKYO).isoformat()

    response = _grant(partner_key, "BC-1", _grant_body(notice, partner, occurred_at=before_notice))

    assert _refused(response, 400, "validation_failed")["fields"].keys() == {"occurred_at"}
    assert _written() == (0, 0)
