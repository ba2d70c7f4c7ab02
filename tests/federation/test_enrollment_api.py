"""The enrollment API: the source enrolls its own members, the target reads the allowed fields
under its own pseudonymous id (each read checked and recorded) and confirms; bad requests are
refused with a clear 4xx, write nothing and leak nothing."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.models import ProvisionRecord
from consent.services import consent_withdraw
from federation import services
from federation.models import Agreement, Enrollment, EnrollmentBatch
from partners import services as partner_services
from partners.actors import Actor
from partners.models import MemberAccount, Partner, WebhookDelivery
from partners.pii import member_id_from_pseudonym
from tests.conftest import Key, client_for
from tests.federation.conftest import MEMBER_NAME, enrollment_member, grant_enrollment_consents

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
TODAY = timezone.localdate()
# What the target must never see in a response other than …/member: personal data, and the
# source's own member numbers.
PERSONAL = (MEMBER_NAME, "@example.jp", "09011112222", "1985-03-04", "千代田区")


def _enroll(key: Key, number: str = "K-1", target: str = "brand-co", **extra: Any) -> Any:
    body: dict[str, Any] = {"member_number": number, "target": target}
    headers = {}
    if "idempotency_key" in extra:
        headers["HTTP_IDEMPOTENCY_KEY"] = extra.pop("idempotency_key")
    body.update(extra)
    return client_for(key).post("/api/v1/enrollments", body, format="json", **headers)


@pytest.fixture
def enrollment(hanako: MemberAccount, host_key: Key) -> Enrollment:
    response = _enroll(host_key)
    assert response.status_code == 201, response.content
    return Enrollment.objects.get(pk=response.json()["id"])


def _written() -> tuple[int, int, int]:
    return (
        Enrollment.objects.count(),
        ProvisionRecord.objects.count(),
        WebhookDelivery.objects.filter(event_type__startswith="enrollment.").count(),
    )


def _assert_no_personal_data(response: Any) -> None:
    text = response.content.decode()
    for value in PERSONAL:
        assert value not in text, f"{value!r} leaked"


# --- Enrolling ---------------------------------------------------------------------------------


def test_the_source_enrolls_its_member_and_the_target_knows_it_only_by_its_own_id(
    hanako: MemberAccount, host_key: Key, partner_key: Key, partner: Partner
) -> None:
    response = _enroll(host_key, fields=["name", "email"])

    assert response.status_code == 201, response.content
    mine = response.json()
    assert mine["role"] == "source"
    assert mine["member_number"] == "K-1"
    assert (mine["member"], mine["target_member_number"]) == (None, None)
    assert (mine["source"], mine["target"], mine["status"]) == ("host-co", "brand-co", "active")
    assert mine["fields"] == ["email", "name"]
    _assert_no_personal_data(response)

    theirs = client_for(partner_key).get(f"/api/v1/enrollments/{mine['id']}")
    assert theirs.status_code == 200
    body = theirs.json()
    assert body["role"] == "target"
    assert body["member_number"] is None
    assert member_id_from_pseudonym(body["member"], partner.pk) == hanako.pk
    assert "K-1" not in theirs.content.decode()
    _assert_no_personal_data(theirs)
    (told,) = WebhookDelivery.objects.filter(event_type="enrollment.requested")
    assert told.payload["data"]["member"] == body["member"]


def test_the_target_reads_the_members_fields_and_each_read_is_recorded(
    enrollment: Enrollment, hanako: MemberAccount, partner: Partner, partner_key: Key
) -> None:
    response = client_for(partner_key).get(f"/api/v1/enrollments/{enrollment.pk}/member")

    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["fields"] == {"age_band": "40-49", "email": "k-1@example.jp", "name": MEMBER_NAME}
    assert member_id_from_pseudonym(body["member"], partner.pk) == hanako.pk
    assert "K-1" not in response.content.decode()
    (record,) = ProvisionRecord.objects.all()
    assert (record.recipient, record.member) == (partner, hanako)
    client_for(partner_key).get(f"/api/v1/enrollments/{enrollment.pk}/member")
    assert ProvisionRecord.objects.count() == 2


def test_the_members_data_is_the_targets_alone(
    enrollment: Enrollment, host_key: Key, outsider_key: Key
) -> None:
    missing = client_for(host_key).get(f"/api/v1/enrollments/{uuid.uuid4()}/member")
    for key in (host_key, outsider_key):
        response = client_for(key).get(f"/api/v1/enrollments/{enrollment.pk}/member")
        assert response.status_code == 404
        assert response.content == missing.content
    assert not ProvisionRecord.objects.exists()


def test_after_the_member_withdraws_the_target_reads_nothing(
    enrollment: Enrollment, hanako: MemberAccount, partner: Partner, partner_key: Key
) -> None:
    consent_withdraw(
        member=hanako,
        purpose_code="profile_sharing",
        recipient=partner,
        channel="preference_page",
        occurred_at=timezone.now(),
        actor=SYSTEM,
    )

    response = client_for(partner_key).get(f"/api/v1/enrollments/{enrollment.pk}/member")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "consent_required"
    _assert_no_personal_data(response)
    assert not ProvisionRecord.objects.exists()


def _suspend(agreement: Agreement) -> None:
    services.agreement_suspend(agreement=agreement, reason="Review", actor=SYSTEM)


def _expire(agreement: Agreement) -> None:
    agreement.versions.update(
        valid_until=TODAY - timedelta(days=1), effective_from=TODAY - timedelta(days=30)
    )


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("no_consent", 403, "consent_required"),
        ("only_one_consent", 403, "consent_required"),
        ("no_agreement", 403, "no_agreement"),
        ("unknown_target", 403, "no_agreement"),
        ("suspended", 403, "no_agreement"),
        ("expired", 403, "no_agreement"),
        ("field_not_allowed", 400, "validation_failed"),
        ("field_not_noticed", 400, "validation_failed"),
        ("another_partners_member", 404, "not_found"),
        ("unknown_member", 404, "not_found"),
        ("unknown_body_field", 400, "validation_failed"),
    ],
)
def test_a_bad_enrollment_is_refused_writes_nothing_and_leaks_nothing(
    hanako: MemberAccount,
    host: Partner,
    partner: Partner,
    agreement: Agreement,
    host_key: Key,
    case: str,
    status: int,
    code: str,
) -> None:
    theirs = enrollment_member(partner, "BRAND-1")
    grant_enrollment_consents(theirs, partner, "cross_enrollment", "profile_sharing")
    body: dict[str, Any] = {}
    number, target = "K-1", partner.slug
    if case == "no_consent":
        number = enrollment_member(host, "K-2").member_number
    elif case == "only_one_consent":
        number = enrollment_member(host, "K-2").member_number
        grant_enrollment_consents(
            MemberAccount.objects.get(member_number="K-2"), partner, "cross_enrollment"
        )
    elif case == "no_agreement":
        target = "outsider-co"
        partner_services.partner_create(
            slug="outsider-co",
            name_ja="部外者",
            name_latin="Outsider",
            kind=Partner.Kind.BRAND,
            holds_customer_data=True,
            actor=SYSTEM,
        )
    elif case == "unknown_target":
        target = "nobody-co"
    elif case == "suspended":
        _suspend(agreement)
    elif case == "expired":
        _expire(agreement)
    elif case == "field_not_allowed":
        body["fields"] = ["name", "address"]
    elif case == "field_not_noticed":
        body["fields"] = ["phone"]  # agreed, but the notice the member saw does not name it
    elif case == "another_partners_member":
        number = "BRAND-1"
    elif case == "unknown_member":
        number = "K-404"
    else:
        body["partner"] = partner.slug
    before = _written()

    response = _enroll(host_key, number, target, **body)

    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert _written() == before
    _assert_no_personal_data(response)
    assert "BRAND-1" not in response.content.decode()


def test_a_company_without_an_agreement_is_told_exactly_what_an_unknown_slug_is_told(
    hanako: MemberAccount, outsider: Partner, host_key: Key
) -> None:
    stranger = _enroll(host_key, target=outsider.slug).json()["error"]
    nobody = _enroll(host_key, target="nobody-co").json()["error"]

    assert stranger["code"] == nobody["code"] == "no_agreement"
    assert stranger["message"].replace(outsider.slug, "nobody-co") == nobody["message"]


def test_a_read_only_key_cannot_enroll(hanako: MemberAccount, host: Partner) -> None:
    from partners.models import ApiScope
    from tests.factories import issue_key

    read_only = issue_key(host, scopes=(ApiScope.READ,)).plaintext

    response = _enroll(read_only)  # type: ignore[arg-type]

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    assert _written() == (0, 0, 0)


def test_the_same_idempotency_key_replays_and_another_key_is_a_conflict(
    hanako: MemberAccount, host_key: Key
) -> None:
    first = _enroll(host_key, idempotency_key="enroll-k-1")
    again = _enroll(host_key, idempotency_key="enroll-k-1")
    other = _enroll(host_key, idempotency_key="enroll-k-1-second-try")

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "conflict"
    assert Enrollment.objects.count() == 1
    assert WebhookDelivery.objects.filter(event_type="enrollment.requested").count() == 1


# --- Confirming and ending ---------------------------------------------------------------------


def test_the_target_confirms_with_its_own_number_and_the_source_cannot(
    enrollment: Enrollment, host_key: Key, partner_key: Key
) -> None:
    path = f"/api/v1/enrollments/{enrollment.pk}/confirm"

    by_source = client_for(host_key).post(path, {"member_number": "MF-9"}, format="json")
    confirmed = client_for(partner_key).post(path, {"member_number": "MF-9"}, format="json")
    another = client_for(partner_key).post(path, {"member_number": "MF-10"}, format="json")

    assert by_source.status_code == 404
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["target_member_number"] == "MF-9"
    assert another.status_code == 409
    source_view = client_for(host_key).get(f"/api/v1/enrollments/{enrollment.pk}").json()
    assert source_view["status"] == "confirmed"
    assert source_view["target_member_number"] is None
    assert "MF-9" not in str(source_view)


@pytest.mark.parametrize("side", ["source", "target"])
def test_either_side_ends_it_and_the_target_reads_nothing_more(
    enrollment: Enrollment, host_key: Key, partner_key: Key, side: str
) -> None:
    key = host_key if side == "source" else partner_key

    response = client_for(key).post(
        f"/api/v1/enrollments/{enrollment.pk}/end", {"reason": "member left"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ended"
    assert response.json()["ended_at"]
    ended = WebhookDelivery.objects.filter(event_type="enrollment.ended")
    assert ended.count() == 2  # the source and the target
    for told in ended:
        # Named by company: the other side never learns a key or a staff member's name.
        assert told.payload["data"]["ended_by"] == key.partner.slug
        assert "sanpo_" not in str(told.payload)
    read = client_for(partner_key).get(f"/api/v1/enrollments/{enrollment.pk}/member")
    assert read.status_code == 409
    assert not ProvisionRecord.objects.exists()


def test_an_outsider_cannot_end_or_read_an_enrollment(
    enrollment: Enrollment, outsider_key: Key
) -> None:
    client = client_for(outsider_key)
    assert client.get(f"/api/v1/enrollments/{enrollment.pk}").status_code == 404
    ended = client.post(f"/api/v1/enrollments/{enrollment.pk}/end", {}, format="json")
    assert ended.status_code == 404
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


# --- Lists ---------------------------------------------------------------------------------------


def _list(key: Key, query: str = "") -> list[dict[str, Any]]:
    response = client_for(key).get(f"/api/v1/enrollments{query}")
    assert response.status_code == 200, response.content
    _assert_no_personal_data(response)
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def test_each_side_lists_its_enrollments_in_its_own_terms(
    host: Partner,
    partner: Partner,
    agreement: Agreement,
    host_key: Key,
    partner_key: Key,
    outsider_key: Key,
) -> None:
    for n in range(3):
        member = enrollment_member(host, f"L-{n}")
        grant_enrollment_consents(member, partner, "cross_enrollment", "profile_sharing")
        assert _enroll(host_key, member.member_number).status_code == 201
    ended = Enrollment.objects.order_by("requested_at").first()
    assert ended is not None
    services.enrollment_end(enrollment=ended, reason="left", actor=SYSTEM)

    as_source = _list(host_key)
    as_target = _list(partner_key)

    assert [e["member_number"] for e in as_source] == ["L-2", "L-1", "L-0"]  # newest first
    assert {e["role"] for e in as_source} == {"source"}
    assert [e["member_number"] for e in as_target] == [None, None, None]
    assert all(e["member"].startswith("mp_") for e in as_target)
    assert len(_list(partner_key, "?status=ended")) == 1
    assert _list(partner_key, "?role=source") == []
    assert len(_list(partner_key, "?role=target")) == 3
    assert _list(outsider_key) == []
    refused = client_for(host_key).get("/api/v1/enrollments?role=stranger")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "validation_failed"


def test_the_list_costs_the_same_queries_for_one_enrollment_or_many(
    host: Partner, partner: Partner, agreement: Agreement, host_key: Key, partner_key: Key
) -> None:
    def queries(key: Key) -> int:
        with CaptureQueriesContext(connection) as captured:
            _list(key)
        return len(captured)

    first = enrollment_member(host, "Q-0")
    grant_enrollment_consents(first, partner, "cross_enrollment", "profile_sharing")
    _enroll(host_key, "Q-0")
    queries(partner_key)  # the key's first use writes its last-used time
    one = (queries(host_key), queries(partner_key))
    for n in range(1, 6):
        member = enrollment_member(host, f"Q-{n}")
        grant_enrollment_consents(member, partner, "cross_enrollment", "profile_sharing")
        _enroll(host_key, member.member_number)

    assert (queries(host_key), queries(partner_key)) == one


def test_the_list_pages_with_a_cursor(
    host: Partner, partner: Partner, agreement: Agreement, host_key: Key
) -> None:
    for n in range(3):
        member = enrollment_member(host, f"P-{n}")
        grant_enrollment_consents(member, partner, "cross_enrollment", "profile_sharing")
        _enroll(host_key, member.member_number)

    page = client_for(host_key).get("/api/v1/enrollments?limit=2").json()
    rest = client_for(host_key).get(page["next"]).json()

    assert [e["member_number"] for e in page["results"] + rest["results"]] == [
        "P-2",
        "P-1",
        "P-0",
    ]
    assert rest["next"] is None


# --- Campaigns -----------------------------------------------------------------------------------


def test_a_campaign_enrolls_the_consenting_members_and_reports_its_counts(
    host: Partner,
    partner: Partner,
    agreement: Agreement,
    host_key: Key,
    partner_key: Key,
    outsider_key: Key,
    eager_celery: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    for n in range(4):
        grant_enrollment_consents(
            enrollment_member(host, f"C-{n}"), partner, "cross_enrollment", "profile_sharing"
        )
    enrollment_member(host, "C-NOCONSENT")
    enrollment_member(partner, "BRAND-1")
    numbers = [f"C-{n}" for n in range(4)] + ["C-NOCONSENT", "BRAND-1", "NOBODY"]

    with django_capture_on_commit_callbacks(execute=True):
        started = client_for(host_key).post(
            "/api/v1/enrollments/bulk",
            {"target": "brand-co", "member_numbers": numbers, "fields": ["name"]},
            format="json",
        )

    assert started.status_code == 202, started.content
    assert "member_numbers" not in started.json()
    batch_path = f"/api/v1/enrollment-batches/{started.json()['id']}"
    source_view = client_for(host_key).get(batch_path).json()
    assert source_view["status"] == "done"
    assert (source_view["total"], source_view["processed"], source_view["enrolled"]) == (7, 7, 4)
    assert sorted(source_view["member_numbers"]) == sorted(numbers)
    target_view = client_for(partner_key).get(batch_path)
    assert target_view.status_code == 200
    assert target_view.json()["member_numbers"] is None
    assert target_view.json()["enrolled"] == 4
    assert "C-0" not in target_view.content.decode()
    assert client_for(outsider_key).get(batch_path).status_code == 404
    batch = EnrollmentBatch.objects.get()
    in_batch = _list(partner_key, f"?batch={batch.pk}")
    assert len(in_batch) == 4
    assert {e["batch_id"] for e in in_batch} == {str(batch.pk)}
    assert not Enrollment.objects.filter(member__partner=partner).exists()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"target": "brand-co", "member_numbers": []}, 400, "validation_failed"),
        ({"target": "brand-co", "member_numbers": ["K-1"], "fields": ["address"]}, 400, None),
        ({"target": "outsider-co", "member_numbers": ["K-1"]}, 403, "no_agreement"),
        ({"target": "brand-co", "member_numbers": "K-1"}, 400, "validation_failed"),
    ],
)
def test_a_bad_campaign_is_refused_and_queues_nothing(
    agreement: Agreement, host_key: Key, body: dict[str, Any], status: int, code: str | None
) -> None:
    response = client_for(host_key).post("/api/v1/enrollments/bulk", body, format="json")

    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == (code or "validation_failed")
    assert not EnrollmentBatch.objects.exists()
