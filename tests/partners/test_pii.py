# Full-width letters, digits and signs are the test data here: they are what people type.
# ruff: noqa: RUF001
"""Member personal data at rest: each ciphertext opens only in its own row and column, a master
key rotates by re-wrapping data keys, blind indexes match equal values under one key only, and
pseudonymous ids are stable per recipient and useless to anyone else."""

import os
import uuid
from typing import Any

import pytest

from partners import pii
from partners.actors import Actor
from partners.models import MemberAccount, Partner
from partners.services import member_create

# Two companies' ids and one member number; the personas of these tests are the two member
# bases (brand and host) and the member Hanako Sato who is in the brand's base.
BRAND = uuid.UUID("11111111-1111-4111-8111-111111111111")
HOST = uuid.UUID("22222222-2222-4222-8222-222222222222")
HANAKO = "M0001"
HANAKO_VALUES = {
    "name": "佐藤 花子",
    "name_kana": "サトウ ハナコ",
    "email": "hanako.sato@example.jp",
    "phone": "09012345678",
    "postal_code": "150-0002",
    "address": "東京都渋谷区渋谷1-2-3",
    "birth_date": "1990-04-01",
}
KEY_A = ("a", os.urandom(32))
KEY_B = ("b", os.urandom(32))


@pytest.fixture(autouse=True)
def _keys(settings: Any) -> None:
    settings.SANPO_MEMBER_MASTER_KEYS = [KEY_A]
    settings.SANPO_BLIND_INDEX_KEYS = [("i1", os.urandom(32))]


def _open(sealed: pii.SealedRecord, **overrides: Any) -> dict[str, str | None]:
    arguments: dict[str, Any] = {
        "partner_id": BRAND,
        "member_number": HANAKO,
        "master_key_id": sealed.master_key_id,
        "wrapped_key": sealed.wrapped_key,
        "ciphertexts": sealed.ciphertexts,
    }
    arguments.update(overrides)
    return pii.open_fields(**arguments)


def _seal(partner_id: uuid.UUID = BRAND, member_number: str = HANAKO) -> pii.SealedRecord:
    return pii.seal(partner_id=partner_id, member_number=member_number, values=HANAKO_VALUES)


# --- Envelope encryption --------------------------------------------------------------------


def test_sealed_fields_open_to_the_values_sealed() -> None:
    sealed = _seal()

    assert sealed.master_key_id == "a"
    assert _open(sealed) == HANAKO_VALUES
    for field, token in sealed.ciphertexts.items():
        assert token is not None
        assert HANAKO_VALUES[field].encode() not in token


def test_empty_and_missing_fields_are_stored_as_nothing() -> None:
    sealed = pii.seal(
        partner_id=BRAND, member_number=HANAKO, values={"name": "佐藤 花子", "email": ""}
    )

    assert sealed.ciphertexts["email"] is None
    assert sealed.ciphertexts["phone"] is None
    assert _open(sealed)["name"] == "佐藤 花子"
    assert _open(sealed)["email"] is None


def test_sealing_the_same_values_twice_gives_different_ciphertexts_and_keys() -> None:
    first, second = _seal(), _seal()

    assert first.wrapped_key != second.wrapped_key
    assert first.ciphertexts["name"] != second.ciphertexts["name"]


@pytest.mark.parametrize(
    "elsewhere",
    [
        {"member_number": "M0002"},
        {"partner_id": HOST},
    ],
    ids=["another member number", "another partner"],
)
def test_a_whole_record_moved_to_another_row_does_not_open(elsewhere: dict[str, Any]) -> None:
    with pytest.raises(pii.UndecryptableError, match="does not belong to this member"):
        _open(_seal(), **elsewhere)


def test_a_ciphertext_copied_into_another_members_row_does_not_open() -> None:
    hanako, taro = _seal(), _seal(member_number="M0002")
    taro_with_hanakos_email = dict(taro.ciphertexts, email=hanako.ciphertexts["email"])

    with pytest.raises(pii.UndecryptableError, match="email ciphertext"):
        _open(taro, member_number="M0002", ciphertexts=taro_with_hanakos_email)


def test_a_ciphertext_copied_from_another_partners_row_does_not_open() -> None:
    at_brand, at_host = _seal(), _seal(partner_id=HOST)
    mixed = dict(at_host.ciphertexts, phone=at_brand.ciphertexts["phone"])

    with pytest.raises(pii.UndecryptableError, match="phone ciphertext"):
        _open(at_host, partner_id=HOST, ciphertexts=mixed)


def test_a_ciphertext_copied_into_another_column_does_not_open() -> None:
    sealed = _seal()
    # Even under the right data key: the field name is part of the associated data.
    swapped = dict(sealed.ciphertexts, name=sealed.ciphertexts["name_kana"])

    with pytest.raises(pii.UndecryptableError, match="name ciphertext"):
        _open(sealed, ciphertexts=swapped)


def test_a_wrapped_key_copied_into_another_row_does_not_open() -> None:
    hanako, taro = _seal(), _seal(member_number="M0002")

    with pytest.raises(pii.UndecryptableError, match="data key does not belong"):
        _open(taro, member_number="M0002", wrapped_key=hanako.wrapped_key)
    with pytest.raises(pii.UndecryptableError):
        pii.unwrap_data_key(
            partner_id=BRAND,
            member_number="M0002",
            master_key_id="a",
            wrapped_key=hanako.wrapped_key,
        )


def _flip(token: bytes, position: int) -> bytes:
    changed = bytearray(token)
    changed[position] ^= 0x01
    return bytes(changed)


@pytest.mark.parametrize("position", [0, 12, -1], ids=["nonce", "body", "tag"])
def test_a_tampered_byte_in_a_ciphertext_does_not_open(position: int) -> None:
    sealed = _seal()
    name = sealed.ciphertexts["name"]
    assert name is not None

    with pytest.raises(pii.UndecryptableError):
        _open(sealed, ciphertexts=dict(sealed.ciphertexts, name=_flip(name, position)))


@pytest.mark.parametrize("position", [0, 12, -1], ids=["nonce", "body", "tag"])
def test_a_tampered_byte_in_a_wrapped_key_does_not_open(position: int) -> None:
    sealed = _seal()

    with pytest.raises(pii.UndecryptableError):
        _open(sealed, wrapped_key=_flip(sealed.wrapped_key, position))


@pytest.mark.parametrize("destroyed", [None, b""])
def test_an_erased_member_whose_data_key_is_destroyed_does_not_open(destroyed: Any) -> None:
    with pytest.raises(pii.UndecryptableError, match="destroyed"):
        _open(_seal(), wrapped_key=destroyed)


def test_ciphertexts_read_back_from_the_database_as_memoryview_open() -> None:
    sealed = _seal()
    as_read = {k: memoryview(v) if v else v for k, v in sealed.ciphertexts.items()}

    assert _open(sealed, ciphertexts=as_read) == HANAKO_VALUES


# --- Master key rotation --------------------------------------------------------------------


def test_rotation_rewraps_the_data_key_under_the_newest_master_key(settings: Any) -> None:
    sealed = _seal()  # under A
    settings.SANPO_MEMBER_MASTER_KEYS = [KEY_B, KEY_A]

    key_id, wrapped = pii.rewrap_data_key(
        partner_id=BRAND, member_number=HANAKO, master_key_id="a", wrapped_key=sealed.wrapped_key
    )

    assert key_id == "b"
    assert wrapped != sealed.wrapped_key
    # The data was not touched: the same ciphertexts open under the re-wrapped key.
    assert _open(sealed, master_key_id="b", wrapped_key=wrapped) == HANAKO_VALUES
    # And the old wrapping still works while A is configured.
    assert _open(sealed) == HANAKO_VALUES
    # New seals use B.
    assert _seal().master_key_id == "b"


def test_after_the_old_master_key_is_removed_only_rewrapped_rows_open(settings: Any) -> None:
    rewrapped, forgotten = _seal(), _seal(member_number="M0002")
    settings.SANPO_MEMBER_MASTER_KEYS = [KEY_B, KEY_A]
    key_id, wrapped = pii.rewrap_data_key(
        partner_id=BRAND,
        member_number=HANAKO,
        master_key_id="a",
        wrapped_key=rewrapped.wrapped_key,
    )
    settings.SANPO_MEMBER_MASTER_KEYS = [KEY_B]

    assert _open(rewrapped, master_key_id=key_id, wrapped_key=wrapped) == HANAKO_VALUES
    with pytest.raises(pii.UndecryptableError) as caught:
        _open(forgotten, member_number="M0002")
    message = str(caught.value)
    assert "'a'" in message
    assert "SANPO_MEMBER_MASTER_KEYS" in message
    assert "re-wrapped" in message


def test_a_wrapped_key_labelled_with_the_wrong_master_key_does_not_open(settings: Any) -> None:
    sealed = _seal()  # under A
    settings.SANPO_MEMBER_MASTER_KEYS = [KEY_B, KEY_A]

    with pytest.raises(pii.UndecryptableError):
        _open(sealed, master_key_id="b")


# --- Blind indexes --------------------------------------------------------------------------


def test_a_blind_index_is_the_same_for_the_same_value_under_the_same_key() -> None:
    one, two = pii.BlindIndexer(), pii.BlindIndexer()

    assert one.email("hanako.sato@example.jp") == two.email("hanako.sato@example.jp")
    assert one.phone("09012345678") == two.phone("09012345678")
    assert one.email("hanako.sato@example.jp") != one.email("taro.sato@example.jp")
    assert one.phone("09012345678") != one.phone("09012345679")
    assert len(one.email("hanako.sato@example.jp") or b"") == 16
    assert b"hanako" not in (one.email("hanako.sato@example.jp") or b"")


def test_empty_values_have_no_blind_index() -> None:
    indexer = pii.BlindIndexer()

    assert indexer.email(None) is None
    assert indexer.email("") is None
    assert indexer.phone(None) is None


def test_another_index_key_gives_another_index(settings: Any) -> None:
    settings.SANPO_BLIND_INDEX_KEYS = [("i2", os.urandom(32)), ("i1", os.urandom(32))]
    newest, older = pii.BlindIndexer(), pii.BlindIndexer("i1")

    assert newest.key_id == "i2"
    assert older.key_id == "i1"
    assert newest.email("hanako.sato@example.jp") != older.email("hanako.sato@example.jp")
    assert newest.phone("09012345678") != older.phone("09012345678")
    assert newest.record_digest(["a", "b"]) != older.record_digest(["a", "b"])


def test_an_unknown_index_key_id_is_refused() -> None:
    with pytest.raises(KeyError, match="SANPO_BLIND_INDEX_KEYS"):
        pii.BlindIndexer("gone")


def test_email_and_phone_indexes_of_one_string_differ() -> None:
    indexer = pii.BlindIndexer()

    assert indexer.email("09012345678") != indexer.phone("09012345678")


def test_a_record_digest_depends_on_every_part_and_its_position() -> None:
    indexer = pii.BlindIndexer()

    assert indexer.record_digest(["a", "b"]) == indexer.record_digest(["a", "b"])
    assert indexer.record_digest(["a", "b"]) != indexer.record_digest(["b", "a"])
    assert indexer.record_digest(["ab", ""]) != indexer.record_digest(["a", "b"])


# --- Pseudonymous ids -----------------------------------------------------------------------


def test_a_pseudonym_is_stable_per_recipient_and_differs_between_recipients() -> None:
    member = uuid.uuid4()

    for_brand = pii.pseudonym_for(member, BRAND)
    assert for_brand == pii.pseudonym_for(member, BRAND)
    assert for_brand != pii.pseudonym_for(member, HOST)
    assert for_brand.startswith("mp_")
    assert len(for_brand) == 3 + 26
    assert member.hex not in for_brand


def test_a_pseudonym_resolves_back_to_its_member_for_its_recipient() -> None:
    member = uuid.uuid4()

    assert pii.member_id_from_pseudonym(pii.pseudonym_for(member, HOST), HOST) == member


def test_pseudonyms_of_different_members_differ() -> None:
    members = [uuid.uuid4() for _ in range(200)]

    assert len({pii.pseudonym_for(member, BRAND) for member in members}) == 200


@pytest.mark.django_db
def test_another_recipients_pseudonym_resolves_to_no_account(
    partner: Partner, host: Partner
) -> None:
    hanako = member_create(
        partner=host,
        values={"member_number": HANAKO, "kind": "household", "name": "佐藤 花子"},
        actor=Actor.system(),
    )
    taro = member_create(
        partner=partner,
        values={"member_number": "B-77", "kind": "household", "name": "山田 太郎"},
        actor=Actor.system(),
    )
    issued_to_host = pii.pseudonym_for(hanako.id, host.id)

    presented_by_brand = pii.member_id_from_pseudonym(issued_to_host, partner.id)

    assert presented_by_brand is not None
    assert presented_by_brand not in (hanako.id, taro.id)
    assert not MemberAccount.objects.filter(id=presented_by_brand).exists()


@pytest.mark.parametrize(
    "malformed",
    [
        "",
        "mp_",
        "mp_abc",
        "mp_" + "a" * 25,
        "mp_" + "a" * 27,
        "mp_" + "1" * 26,  # 1 is not in the base32 alphabet
        "mp_" + "a" * 25 + "!",
        "mp_" + "a" * 24 + "==",
        "mp_" + "ａ" * 26,  # full-width letters
    ],
)
def test_a_malformed_pseudonym_resolves_to_nothing(malformed: str) -> None:
    assert pii.member_id_from_pseudonym(malformed, BRAND) is None


def test_a_pseudonym_without_its_prefix_resolves_to_nothing() -> None:
    pseudonym = pii.pseudonym_for(uuid.uuid4(), BRAND)

    assert pii.member_id_from_pseudonym(pseudonym[3:], BRAND) is None
    assert pii.member_id_from_pseudonym("xx_" + pseudonym[3:], BRAND) is None
    assert pii.member_id_from_pseudonym("MP_" + pseudonym[3:], BRAND) is None


def test_only_the_issued_spelling_of_a_pseudonym_resolves() -> None:
    # A pseudonym is an id partners store and compare as a string; if other spellings of it
    # resolved too, one member could appear under several ids (in a partner's own records, in
    # idempotency keys, in deduplication) and the id would not be "stable" any more.
    member = uuid.uuid4()
    issued = pii.pseudonym_for(member, BRAND)
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    respellings = [issued[:-1] + c for c in alphabet if c != issued[-1]]
    respellings.append("mp_" + issued[3:].upper())

    resolving = [p for p in respellings if pii.member_id_from_pseudonym(p, BRAND) == member]

    assert resolving == []


def test_pseudonyms_derive_from_the_configured_pseudonym_key(settings: Any) -> None:
    member = uuid.uuid4()
    settings.SANPO_PSEUDONYM_KEY = os.urandom(32)
    under_first_key = pii.pseudonym_for(member, BRAND)

    settings.SANPO_PSEUDONYM_KEY = os.urandom(32)

    assert pii.pseudonym_for(member, BRAND) != under_first_key
