"""Rotating member master keys and blind-index keys over stored accounts (rotate_member_keys)."""

import os
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from partners import pii
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import AuditEvent, MemberAccount, MemberImport, Partner, Person
from partners.services import member_create, member_erase, member_update
from partners.services.member_keys import member_blind_indexes_rotate, member_master_keys_rotate
from partners.services.member_records import open_member

pytestmark = pytest.mark.django_db


def _key(key_id: str) -> tuple[str, bytes]:
    return key_id, os.urandom(32)


def _bytes(value: bytes | memoryview | None) -> bytes:
    assert value is not None
    return bytes(value)


def _members(partner: Partner, outsider: Partner) -> list[MemberAccount]:
    actor = Actor.system()
    values = {"kind": "household", "name": "鈴木 花子", "phone": "090-1234-5678"}
    created = [
        member_create(
            partner=partner,
            values={**values, "member_number": f"R{n}", "email": f"hanako{n}@example.jp"},
            actor=actor,
        )
        for n in range(5)
    ]
    created.append(
        member_create(
            partner=outsider,
            values={**values, "member_number": "O1", "email": "hanako0@example.jp"},
            actor=actor,
        )
    )
    return created


def test_master_key_rotation_rewraps_every_data_key_and_the_old_key_can_go(
    partner: Partner, outsider: Partner, settings: Any
) -> None:
    old = settings.SANPO_MEMBER_MASTER_KEYS[0]
    members = _members(partner, outsider)
    erased = members.pop(1)
    member_erase(member=erased, actor=Actor.system())
    sealed_before = {m.pk: _bytes(m.email_sealed) for m in members}
    settings.SANPO_MEMBER_MASTER_KEYS = [_key("new"), old]

    count = member_master_keys_rotate(actor=Actor.system(), batch_size=2)

    assert count == 5  # the erased account has no key to re-wrap
    settings.SANPO_MEMBER_MASTER_KEYS = [settings.SANPO_MEMBER_MASTER_KEYS[0]]  # old key gone
    for member in MemberAccount.objects.exclude(pk=erased.pk):
        assert member.master_key_id == "new"
        assert _bytes(member.email_sealed) == sealed_before[member.pk]  # data not re-encrypted
        assert open_member(member)["name"] == "鈴木 花子"
    assert member_master_keys_rotate(actor=Actor.system()) == 0  # nothing left to do
    event = AuditEvent.objects.filter(action=AuditEvent.Action.MEMBER_KEYS_ROTATED).first()
    assert event is not None
    assert event.detail["master_key"] == "new"


def test_without_rotation_removing_the_old_master_key_makes_data_unreadable(
    partner: Partner, outsider: Partner, settings: Any
) -> None:
    (member, *_) = _members(partner, outsider)
    settings.SANPO_MEMBER_MASTER_KEYS = [_key("new")]

    with pytest.raises(pii.UndecryptableError, match="rotate_member_keys --master"):
        open_member(MemberAccount.objects.get(pk=member.pk))


def test_blind_index_rotation_reindexes_and_keeps_matching_across_partners(
    partner: Partner, outsider: Partner, settings: Any
) -> None:
    members = _members(partner, outsider)
    shared_person = MemberAccount.objects.get(pk=members[-1].pk).person_id
    assert MemberAccount.objects.get(pk=members[0].pk).person_id == shared_person
    old_index = _bytes(MemberAccount.objects.get(pk=members[0].pk).email_index)
    settings.SANPO_BLIND_INDEX_KEYS = [_key("b2"), *settings.SANPO_BLIND_INDEX_KEYS]

    assert member_blind_indexes_rotate(actor=Actor.system(), batch_size=4) == 6

    first = MemberAccount.objects.get(pk=members[0].pk)
    assert first.index_key_id == "b2"
    assert _bytes(first.email_index) != old_index
    assert _bytes(first.email_index) == pii.BlindIndexer("b2").email("hanako0@example.jp")
    # The same person, found again under the new key by a new account elsewhere.
    persons = Person.objects.count()
    late = member_create(
        partner=outsider,
        values={
            "member_number": "O2",
            "kind": "household",
            "name": "鈴木 花子",
            "email": "HANAKO0@example.jp",
        },
        actor=Actor.system(),
    )
    assert late.person_id == shared_person
    assert Person.objects.count() == persons


def test_rotate_member_keys_command_reports_counts(
    partner: Partner, outsider: Partner, settings: Any
) -> None:
    _members(partner, outsider)
    settings.SANPO_MEMBER_MASTER_KEYS = [_key("cmd"), *settings.SANPO_MEMBER_MASTER_KEYS]
    out = StringIO()

    call_command("rotate_member_keys", "--master", stdout=out, stderr=StringIO())

    assert "Re-wrapped 6 member data key(s)" in out.getvalue()
    assert set(MemberAccount.objects.values_list("master_key_id", flat=True)) == {"cmd"}


def test_keys_do_not_rotate_while_an_import_is_unfinished(
    partner: Partner, outsider: Partner, settings: Any
) -> None:
    _members(partner, outsider)
    MemberImport.objects.create(partner=partner, original_name="half.csv", status="staging")
    settings.SANPO_MEMBER_MASTER_KEYS = [_key("new"), *settings.SANPO_MEMBER_MASTER_KEYS]

    with pytest.raises(ApplicationError, match="unfinished"):
        member_master_keys_rotate(actor=Actor.system())
    with pytest.raises(CommandError, match="unfinished"):
        call_command("rotate_member_keys", "--blind-index", stdout=StringIO(), stderr=StringIO())
    assert set(MemberAccount.objects.values_list("master_key_id", flat=True)) == {"dev1"}


def test_an_update_during_a_blind_index_rotation_keeps_the_person(
    partner: Partner, outsider: Partner, settings: Any
) -> None:
    members = _members(partner, outsider)
    person = MemberAccount.objects.get(pk=members[0].pk).person_id
    settings.SANPO_BLIND_INDEX_KEYS = [_key("b2"), *settings.SANPO_BLIND_INDEX_KEYS]

    # A name change re-indexes R0 under the new key before the rotation reaches O1 ...
    member_update(member=members[0], values={"name": "鈴木 はなこ"}, actor=Actor.system())
    member_blind_indexes_rotate(actor=Actor.system())

    # ... and R0 stays the same person as O1, who shares its e-mail at the other partner.
    assert MemberAccount.objects.get(pk=members[0].pk).person_id == person
    assert MemberAccount.objects.get(pk=members[-1].pk).person_id == person


def test_check_reports_accounts_still_under_an_old_key_until_they_are_rotated(
    partner: Partner, outsider: Partner, settings: Any
) -> None:
    _members(partner, outsider)
    settings.SANPO_MEMBER_MASTER_KEYS = [_key("new"), *settings.SANPO_MEMBER_MASTER_KEYS]
    out = StringIO()

    with pytest.raises(CommandError, match="before removing any key"):
        call_command("rotate_member_keys", "--check", stdout=out)
    assert "SANPO_MEMBER_MASTER_KEYS 'dev1': 6 account(s), old" in out.getvalue()

    call_command("rotate_member_keys", "--master", stdout=StringIO(), stderr=StringIO())
    out = StringIO()
    call_command("rotate_member_keys", "--check", stdout=out)
    assert "may be removed" in out.getvalue()


def test_master_rotation_refuses_to_start_while_accounts_are_under_a_key_not_configured(
    partner: Partner, outsider: Partner, settings: Any
) -> None:
    members = _members(partner, outsider)
    MemberAccount.objects.filter(pk=members[0].pk).update(master_key_id="dropped")
    settings.SANPO_MEMBER_MASTER_KEYS = [_key("new"), *settings.SANPO_MEMBER_MASTER_KEYS]
    out = StringIO()

    with pytest.raises(CommandError, match="1 under 'dropped'"):
        call_command("rotate_member_keys", "--master", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError):
        call_command("rotate_member_keys", "--check", stdout=out)

    assert "'dropped': 1 account(s), NOT CONFIGURED" in out.getvalue()
    assert set(MemberAccount.objects.values_list("master_key_id", flat=True)) == {
        "dev1",
        "dropped",
    }


def test_a_rotation_that_meets_a_tampered_account_stops_clearly_and_records_it(
    partner: Partner, outsider: Partner, settings: Any
) -> None:
    members = _members(partner, outsider)
    MemberAccount.objects.filter(pk=members[0].pk).update(email_sealed=members[1].email_sealed)
    settings.SANPO_BLIND_INDEX_KEYS = [_key("b2"), *settings.SANPO_BLIND_INDEX_KEYS]

    with pytest.raises(CommandError, match=f"account {members[0].pk}"):
        call_command("rotate_member_keys", "--blind-index", stdout=StringIO(), stderr=StringIO())

    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.DATA_INTEGRITY_FAILED, object_id=str(members[0].pk)
    ).exists()
