"""Data-subject requests: identity is verified before anything runs (a repeat too); an access
request exports everything held about the member; an erasure makes the personal data
unreadable, withdraws every consent and tells every recipient; repeating it is harmless."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from consent.models import (
    ConsentEvent,
    ConsentState,
    DataSubjectRequest,
    ProvisionRecord,
    WithdrawalNotice,
)
from consent.selectors import consent_check
from consent.services import chain_verify, consent_grant, provision_record
from partners import pii, services
from partners.actors import Actor
from partners.models import AuditEvent, MemberAccount, Partner, WebhookDelivery
from partners.services.member_records import open_member
from tests.conftest import Key, client_for
from tests.factories import make_notice

pytestmark = pytest.mark.django_db
HOOK_URL = "http://127.0.0.1:9/erasures"  # loopback is allowed in tests; nothing listens
IDENTITY = {"email": "Hanako.Sato@Example.jp", "phone": "090-1111-2222"}


@pytest.fixture
def hanako(host: Partner, partner: Partner, outsider: Partner) -> MemberAccount:
    """A host member who consented to two brands and whose name went to the first."""
    for recipient in (partner, outsider):
        services.webhook_endpoint_create(
            partner=recipient,
            url=HOOK_URL,
            events=["consent.withdrawn", "consent.member_erased"],
            actor=Actor.system(),
        )
    member = services.member_create(
        partner=host,
        values={
            "member_number": "K-100",
            "kind": "household",
            "name": "佐藤 花子",
            "email": "hanako.sato@example.jp",
            "phone": "09011112222",
            "birth_date": "1985-03-04",
        },
        actor=Actor.system(),
    )
    notice = make_notice(
        text="氏名を提携先に提供します。",
        purposes=["profile_sharing", "co_marketing_contact"],
        recipients=[partner, outsider],
        data_items=["name"],
        effective_at=timezone.now() - timedelta(days=30),
    )
    for recipient, purpose in ((partner, "profile_sharing"), (outsider, "co_marketing_contact")):
        consent_grant(
            member=member,
            purpose_code=purpose,
            recipient=recipient,
            notice=notice,
            channel="host_portal",
            occurred_at=timezone.now() - timedelta(days=3),
            actor=Actor.system(),
        )
    provision_record(
        member=member,
        recipient=partner,
        purpose_code="profile_sharing",
        data_items=["name"],
        actor=Actor.system(),
    )
    return member


def _request(key: Key, kind: str, identity: dict[str, str], number: str = "K-100") -> Any:
    return client_for(key).post(
        f"/api/v1/members/{number}/data-requests",
        {"kind": kind, "identity": identity},
        format="json",
    )


def test_an_access_request_is_recorded_only_once_the_identity_matches(
    hanako: MemberAccount, host_key: Key
) -> None:
    wrong = _request(host_key, "access", {**IDENTITY, "phone": "090-9999-0000"})
    too_little = _request(host_key, "access", {"email": IDENTITY["email"]})
    not_a_date = _request(host_key, "access", {**IDENTITY, "birth_date": "yesterday"})
    assert DataSubjectRequest.objects.count() == 0  # nothing recorded for an unverified identity

    right = _request(host_key, "access", {"email": IDENTITY["email"], "birth_date": "1985/03/04"})

    assert wrong.status_code == 403
    assert wrong.json()["error"]["code"] == "identity_not_verified"
    assert "phone" not in wrong.json()["error"]["message"]  # nothing says which fact failed
    assert too_little.status_code == 400
    assert not_a_date.status_code == 403
    assert right.status_code == 201, right.content
    body = right.json()
    assert body["status"] == "verified"
    assert body["verified_with"] == ["birth_date", "email"]
    found = DataSubjectRequest.objects.get()
    assert found.due_at - found.received_at == timedelta(days=30)
    assert found.received_via == hanako.partner


def test_a_repeat_is_verified_again_before_the_open_request_comes_back(
    hanako: MemberAccount, host_key: Key
) -> None:
    first = _request(host_key, "access", IDENTITY).json()

    impostor = _request(host_key, "access", {**IDENTITY, "email": "someone@else.example"})
    repeat = _request(host_key, "access", IDENTITY)

    assert impostor.status_code == 403
    assert repeat.status_code == 200
    assert repeat.json()["id"] == first["id"]
    assert DataSubjectRequest.objects.count() == 1


def test_the_export_holds_everything_about_the_member_and_logs_the_opening(
    hanako: MemberAccount, host_key: Key, partner: Partner, outsider: Partner
) -> None:
    request_id = _request(host_key, "access", IDENTITY).json()["id"]

    response = client_for(host_key).get(f"/api/v1/data-requests/{request_id}/export")

    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    export = response.json()
    assert export["format"] == "sanpo-data-subject-export/1"
    assert export["account"]["member_number"] == "K-100"
    assert export["account"]["personal_data"]["name"] == "佐藤 花子"
    assert export["account"]["personal_data"]["birth_date"] == "1985-03-04"
    history = [(e["sequence"], e["action"], e["recipient"]) for e in export["consent_history"]]
    assert [h[1] for h in history] == ["granted", "granted"]
    assert {h[2] for h in history} == {partner.slug, outsider.slug}
    (provided,) = export["provisions"]
    assert provided["recipient"] == partner.slug
    assert provided["data_items"] == ["name"]
    assert export["known_to_recipients_as"][partner.slug] == pii.pseudonym_for(
        hanako.pk, partner.pk
    )
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.MEMBER_PERSONAL_DATA_VIEWED, object_id=str(hanako.pk)
    ).exists()
    assert DataSubjectRequest.objects.get().status == "completed"
    detail = client_for(host_key).get(f"/api/v1/data-requests/{request_id}").json()
    assert detail["completed_at"] is not None


def test_the_export_of_data_that_does_not_authenticate_is_a_409_and_a_security_event(
    hanako: MemberAccount, host: Partner, host_key: Key
) -> None:
    request_id = _request(host_key, "access", IDENTITY).json()["id"]
    other = services.member_create(
        partner=host,
        values={"member_number": "K-200", "kind": "household", "name": "鈴木 一郎"},
        actor=Actor.system(),
    )
    MemberAccount.objects.filter(pk=hanako.pk).update(name_sealed=other.name_sealed)

    response = client_for(host_key).get(f"/api/v1/data-requests/{request_id}/export")

    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "data_integrity_failed"
    assert "鈴木" not in response.content.decode()
    assert DataSubjectRequest.objects.get().status == "verified"  # not completed by a failure
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.MEMBER_PERSONAL_DATA_VIEWED)
    (event,) = AuditEvent.objects.filter(action=AuditEvent.Action.DATA_INTEGRITY_FAILED)
    assert (event.object_id, event.partner) == (str(hanako.pk), host)
    assert event.detail["request"] == f"GET /api/v1/data-requests/{request_id}/export"


def test_a_request_verified_against_a_tampered_birth_date_is_a_409(
    hanako: MemberAccount, host: Partner, host_key: Key
) -> None:
    other = services.member_create(
        partner=host,
        values={"member_number": "K-200", "kind": "household", "name": "鈴木 一郎",
                "birth_date": "1985-03-04"},
        actor=Actor.system(),
    )  # fmt: skip
    MemberAccount.objects.filter(pk=hanako.pk).update(birth_date_sealed=other.birth_date_sealed)

    response = _request(host_key, "access", {**IDENTITY, "birth_date": "1985-03-04"})

    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "data_integrity_failed"
    assert DataSubjectRequest.objects.count() == 0
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DATA_INTEGRITY_FAILED).exists()


def test_another_partner_cannot_see_or_export_the_request(
    hanako: MemberAccount, host_key: Key, partner_key: Key
) -> None:
    request_id = _request(host_key, "access", IDENTITY).json()["id"]
    brand = client_for(partner_key)

    assert brand.get(f"/api/v1/data-requests/{request_id}").status_code == 404
    assert brand.get(f"/api/v1/data-requests/{request_id}/export").status_code == 404
    assert brand.get("/api/v1/data-requests").json()["results"] == []
    # The brand has no account K-100 of its own: the host's member is not reachable by number.
    assert _request(partner_key, "access", IDENTITY).status_code == 404
    assert DataSubjectRequest.objects.get().status == "verified"


def test_an_erasure_destroys_the_data_withdraws_everything_and_tells_every_recipient(
    hanako: MemberAccount, host_key: Key, partner: Partner, outsider: Partner
) -> None:
    response = _request(host_key, "erasure", IDENTITY)

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "completed"
    member = MemberAccount.objects.get(pk=hanako.pk)
    assert member.status == MemberAccount.Status.ERASED
    with pytest.raises(pii.UndecryptableError):
        open_member(member)
    assert not ConsentState.objects.filter(member=member, granted=True).exists()
    for recipient, purpose in ((partner, "profile_sharing"), (outsider, "co_marketing_contact")):
        assert not consent_check(member_id=member.pk, purpose_code=purpose, recipient=recipient)
    notices = WithdrawalNotice.objects.filter(event__member=member)
    assert sorted(n.recipient.slug for n in notices) == sorted([partner.slug, outsider.slug])
    erased = WebhookDelivery.objects.filter(event_type="consent.member_erased")
    assert sorted(d.endpoint.partner.slug for d in erased) == sorted([partner.slug, outsider.slug])
    for delivery in erased:
        pseudonym = delivery.payload["data"]["member"]
        assert pii.member_id_from_pseudonym(pseudonym, delivery.endpoint.partner_id) == member.pk
        assert "K-100" not in str(delivery.payload)
    # The record of what was provided stays for its retention; the consent chain stays whole.
    assert ProvisionRecord.objects.filter(member=member).count() == 1
    assert chain_verify(member=member) is None


def test_repeating_an_erasure_is_harmless(hanako: MemberAccount, host_key: Key) -> None:
    first = _request(host_key, "erasure", IDENTITY).json()
    events = ConsentEvent.objects.count()
    deliveries = WebhookDelivery.objects.count()

    again = _request(host_key, "erasure", IDENTITY)

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert ConsentEvent.objects.count() == events
    assert WebhookDelivery.objects.count() == deliveries
    # Nothing is left to verify an access request against, and nothing personal to export.
    assert _request(host_key, "access", IDENTITY).status_code == 403


def test_an_erasure_from_the_admin_withdraws_consents_too(
    hanako: MemberAccount, partner: Partner
) -> None:
    services.member_erase(member=hanako, actor=Actor.system())

    state = ConsentState.objects.get(member=hanako, recipient=partner)
    assert not state.granted
    assert state.event.channel == "data_subject_request"


def test_the_access_export_of_an_erasure_request_is_refused(
    hanako: MemberAccount, host_key: Key
) -> None:
    request_id = _request(host_key, "erasure", IDENTITY).json()["id"]

    response = client_for(host_key).get(f"/api/v1/data-requests/{request_id}/export")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_nobody_records_consent_through_the_data_subject_request_channel(
    hanako: MemberAccount, host_key: Key, partner: Partner
) -> None:
    notice_id = ConsentEvent.objects.filter(member=hanako).first().notice_id  # type: ignore[union-attr]
    response = client_for(host_key).post(
        "/api/v1/members/K-100/consents",
        {
            "purpose": "profile_sharing",
            "recipient": partner.slug,
            "notice": str(notice_id),
            "channel": "data_subject_request",
            "occurred_at": timezone.now().isoformat(),
        },
        format="json",
    )

    assert response.status_code == 403
    # A grant is told about grants, not about withdrawals.
    assert "no consent is ever granted" in response.json()["error"]["message"]
    assert ConsentEvent.objects.filter(member=hanako).count() == 2


def test_the_list_filters_by_status(hanako: MemberAccount, host_key: Key) -> None:
    _request(host_key, "access", IDENTITY)
    client = client_for(host_key)

    assert len(client.get("/api/v1/data-requests?status=verified").json()["results"]) == 1
    assert client.get("/api/v1/data-requests?status=completed").json()["results"] == []
    assert client.get("/api/v1/data-requests?status=lost").status_code == 400
