"""Stored member data that does not authenticate, or sits under a master key no longer
configured: the API answers 409 with a code of its own, never a 500 and never another member's
plaintext, and records a security event that outlives the refused request's rollback."""

import os
from typing import Any

import pytest

from partners import pii, services
from partners.actors import Actor
from partners.models import AuditEvent, MemberAccount, Partner
from tests.conftest import Key, client_for

pytestmark = pytest.mark.django_db
MEMBERS = "/api/v1/members"


def _member(partner: Partner, number: str, email: str) -> MemberAccount:
    return services.member_create(
        partner=partner,
        values={"member_number": number, "kind": "household", "name": "山田 太郎", "email": email},
        actor=Actor.system(),
    )


@pytest.fixture
def tampered(partner: Partner) -> MemberAccount:
    """M-1 whose e-mail ciphertext an attacker copied from M-2's row."""
    victim = _member(partner, "M-1", "taro@example.jp")
    other = _member(partner, "M-2", "other.person@example.jp")
    MemberAccount.objects.filter(pk=victim.pk).update(email_sealed=other.email_sealed)
    return MemberAccount.objects.get(pk=victim.pk)


def _events(action: str, member: MemberAccount) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_id=str(member.pk)))


def _assert_integrity_failed(response: Any) -> None:
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "data_integrity_failed"
    assert "integrity" in error["message"]
    assert b"other.person" not in response.content
    assert b"taro@" not in response.content


def test_pii_tells_erased_tampered_and_unknown_key_apart(
    tampered: MemberAccount, partner: Partner, settings: Any
) -> None:
    with pytest.raises(pii.DataIntegrityError, match="email ciphertext"):
        services.member_reveal(member=tampered, actor=Actor.system(), purpose="test")
    erased = services.member_erase(
        member=_member(partner, "M-3", "gone@example.jp"), actor=Actor.system()
    )
    with pytest.raises(pii.DataErasedError):
        services.member_reveal(member=erased, actor=Actor.system(), purpose="test")
    healthy = _member(partner, "M-4", "kept@example.jp")
    settings.SANPO_MEMBER_MASTER_KEYS = [("elsewhere", os.urandom(32))]
    with pytest.raises(pii.DataKeyUnavailableError, match="rotate_member_keys"):
        services.member_reveal(member=healthy, actor=Actor.system(), purpose="test")


def test_a_ciphertext_copied_from_another_member_is_a_409_and_a_security_event(
    tampered: MemberAccount, partner: Partner, partner_key: Key
) -> None:
    response = client_for(partner_key).get(f"{MEMBERS}/M-1")

    _assert_integrity_failed(response)
    (event,) = _events(AuditEvent.Action.DATA_INTEGRITY_FAILED, tampered)
    assert event.outcome == AuditEvent.Outcome.DENIED
    assert event.partner == partner
    assert event.actor_api_key == partner_key.api_key
    assert event.detail["location"] == "partners.MemberAccount.email_sealed"
    assert event.detail["request"] == "GET /api/v1/members/M-1"
    assert "other.person" not in str(event.detail)
    assert not _events(AuditEvent.Action.MEMBER_PERSONAL_DATA_VIEWED, tampered)


@pytest.mark.parametrize("idempotency_key", [None, "deactivate-m1"])
def test_the_security_event_outlives_the_rollback_of_a_refused_write(
    tampered: MemberAccount, partner_key: Key, idempotency_key: str | None
) -> None:
    headers: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    client = client_for(partner_key)

    deactivated = client.post(f"{MEMBERS}/M-1/deactivate", **headers)
    patched = client.patch(f"{MEMBERS}/M-1", {"name": "山田 次郎"}, format="json")

    _assert_integrity_failed(deactivated)
    _assert_integrity_failed(patched)
    after = MemberAccount.objects.get(pk=tampered.pk)
    assert (after.status, after.updated_at) == (tampered.status, tampered.updated_at)
    assert not _events(AuditEvent.Action.MEMBER_DEACTIVATED, tampered)
    assert len(_events(AuditEvent.Action.DATA_INTEGRITY_FAILED, tampered)) == 2


def test_a_member_under_a_master_key_no_longer_configured_is_a_409(
    partner: Partner, partner_key: Key, settings: Any
) -> None:
    member = _member(partner, "M-1", "taro@example.jp")
    settings.SANPO_MEMBER_MASTER_KEYS = [("new", os.urandom(32))]

    response = client_for(partner_key).get(f"{MEMBERS}/M-1")

    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "data_key_unavailable"
    assert "dev1" not in response.json()["error"]["message"]  # key names are for operators
    (event,) = _events(AuditEvent.Action.DATA_KEY_UNAVAILABLE, member)
    assert "rotate_member_keys" in event.detail["reason"]
