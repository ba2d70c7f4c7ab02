# Full-width letters, digits and signs are the test data here: they are what people type.
# ruff: noqa: RUF001
"""Matching member accounts to persons by blind index: one e-mail is one person across
partners, a shared phone only when the e-mails cannot disagree, kinds never mix, and the whole
run is a handful of set-based statements whatever the number of accounts."""

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partners import pii
from partners.actors import Actor
from partners.models import MemberAccount, Partner, Person
from partners.services import member_create, member_erase
from partners.services.matching import link_unlinked_members, merge_persons_split_by_a_race
from partners.services.member_records import SEALED_COLUMNS, clean_member, seal_member

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 1)


def _unlinked(partner: Partner, number: str, *, kind: str = "household", **values: str) -> Any:
    """An account as an import stages it: sealed and indexed, with no person yet."""
    raw = {"member_number": number, "kind": kind, "name": values.pop("name", "佐藤 花子")}
    raw.update(values)
    sealed = seal_member(
        clean_member(raw, today=TODAY), partner_id=partner.id, indexer=pii.BlindIndexer()
    )
    return MemberAccount(partner=partner, **dict(zip(SEALED_COLUMNS, sealed, strict=True)))


def _save(*accounts: MemberAccount) -> list[MemberAccount]:
    MemberAccount.objects.bulk_create(accounts)
    return list(accounts)


def _person(account: MemberAccount) -> Any:
    account.refresh_from_db()
    return account.person_id


def test_the_same_email_spelled_differently_at_two_partners_is_one_person(
    partner: Partner, host: Partner
) -> None:
    at_host, at_brand = _save(
        _unlinked(host, "H-1", email="Hanako.Sato@Example.JP"),
        _unlinked(partner, "B-1", email="ｈａｎａｋｏ.sato＠example.jp"),
    )

    created = link_unlinked_members()

    assert created == 1
    assert _person(at_host) is not None
    assert _person(at_host) == _person(at_brand)


def test_a_shared_phone_does_not_join_two_people_with_different_emails(
    partner: Partner, host: Partner
) -> None:
    # Hanako and her husband Taro share the landline of their house.
    hanako, taro = _save(
        _unlinked(host, "H-1", email="hanako@example.jp", phone="03-1234-5678"),
        _unlinked(partner, "B-1", email="taro@example.jp", phone="0312345678"),
    )

    created = link_unlinked_members()

    assert created == 2
    assert _person(hanako) != _person(taro)


def test_a_shared_phone_joins_an_account_without_an_email(partner: Partner, host: Partner) -> None:
    with_email, without = _save(
        _unlinked(host, "H-1", email="hanako@example.jp", phone="090-1234-5678"),
        _unlinked(partner, "B-1", phone="+81 90 1234 5678"),
    )

    created = link_unlinked_members()

    assert created == 1
    assert _person(with_email) == _person(without)


def test_accounts_sharing_only_a_phone_and_no_emails_are_one_person(
    partner: Partner, host: Partner, outsider: Partner
) -> None:
    accounts = _save(
        _unlinked(host, "H-1", phone="090-1234-5678"),
        _unlinked(partner, "B-1", phone="09012345678"),
        _unlinked(outsider, "O-1", phone="０９０－１２３４－５６７８"),
    )

    created = link_unlinked_members()

    assert created == 1
    assert len({_person(account) for account in accounts}) == 1


def test_a_household_and_a_business_never_match(partner: Partner, host: Partner) -> None:
    # Hanako's shop uses her own e-mail and mobile.
    hanako, her_shop = _save(
        _unlinked(host, "H-1", email="hanako@example.jp", phone="090-1234-5678"),
        _unlinked(
            partner,
            "B-1",
            kind="business",
            name="佐藤商店",
            email="hanako@example.jp",
            phone="090-1234-5678",
        ),
    )

    created = link_unlinked_members()

    assert created == 2
    assert _person(hanako) != _person(her_shop)


def test_an_account_with_neither_email_nor_phone_is_a_person_of_its_own(
    partner: Partner, host: Partner
) -> None:
    # Same name, same address: not evidence enough.
    one, two = _save(
        _unlinked(host, "H-1", address="東京都渋谷区渋谷1-2-3"),
        _unlinked(partner, "B-1", address="東京都渋谷区渋谷1-2-3"),
    )

    created = link_unlinked_members()

    assert created == 2
    assert _person(one) is not None
    assert _person(two) is not None
    assert _person(one) != _person(two)


def test_a_new_account_joins_the_existing_person_of_its_email(
    partner: Partner, host: Partner
) -> None:
    hanako_at_host = member_create(
        partner=host,
        values={
            "member_number": "H-1",
            "kind": "household",
            "name": "佐藤 花子",
            "email": "hanako@example.jp",
        },
        actor=Actor.system(),
    )
    persons_before = Person.objects.count()
    (hanako_at_brand,) = _save(_unlinked(partner, "B-1", email="HANAKO@example.jp"))

    created = link_unlinked_members()

    assert created == 0
    assert Person.objects.count() == persons_before
    assert _person(hanako_at_brand) == _person(hanako_at_host)


def test_a_new_account_without_email_joins_an_existing_person_by_phone_only_if_unambiguous(
    partner: Partner, host: Partner
) -> None:
    hanako = member_create(
        partner=host,
        values={
            "member_number": "H-1",
            "kind": "household",
            "name": "佐藤 花子",
            "email": "hanako@example.jp",
            "phone": "03-1234-5678",
        },
        actor=Actor.system(),
    )
    same_line_no_email, same_line_other_email = _save(
        _unlinked(partner, "B-1", phone="0312345678"),
        _unlinked(partner, "B-2", phone="0312345678", email="taro@example.jp"),
    )

    link_unlinked_members()

    assert _person(same_line_no_email) == _person(hanako)
    assert _person(same_line_other_email) not in (None, _person(hanako))


def test_erased_accounts_have_no_person(partner: Partner) -> None:
    hanako = member_create(
        partner=partner,
        values={
            "member_number": "B-1",
            "kind": "household",
            "name": "佐藤 花子",
            "email": "hanako@example.jp",
        },
        actor=Actor.system(),
    )
    assert _person(hanako) is not None

    member_erase(member=hanako, actor=Actor.system())
    created = link_unlinked_members()

    assert created == 0
    assert _person(hanako) is None


def test_linking_again_changes_nothing(partner: Partner, host: Partner) -> None:
    accounts = _save(
        _unlinked(host, "H-1", email="hanako@example.jp"),
        _unlinked(partner, "B-1", email="hanako@example.jp"),
        _unlinked(partner, "B-2", phone="090-1234-5678"),
        _unlinked(partner, "B-3"),
    )
    assert link_unlinked_members() == 3
    persons = [_person(account) for account in accounts]
    person_rows = set(Person.objects.values_list("id", flat=True))

    assert link_unlinked_members() == 0
    assert [_person(account) for account in accounts] == persons
    assert set(Person.objects.values_list("id", flat=True)) == person_rows
    assert not MemberAccount.objects.filter(person__isnull=True).exists()


def _base(partners: list[Partner], size: int) -> list[MemberAccount]:
    """``size`` accounts spread over partners: pairs sharing an e-mail, pairs sharing a phone
    (one without e-mail), and accounts with nothing to match on."""
    accounts = []
    for n in range(size):
        partner = partners[n % len(partners)]
        person = n // 2
        if n % 6 in (0, 1):
            values = {"email": f"person{person}@example.jp"}
        elif n % 6 == 2:
            values = {"email": f"person{n}@example.jp", "phone": f"090{n:08d}"}
        elif n % 6 == 3:
            values = {"phone": f"090{n - 1:08d}"}
        else:
            values = {}
        accounts.append(_unlinked(partner, f"M{n:05d}", **values))
    return _save(*accounts)


def test_matching_costs_the_same_number_of_queries_for_ten_or_two_hundred_accounts(
    partner: Partner, host: Partner, outsider: Partner
) -> None:
    _base([partner, host], 10)
    with CaptureQueriesContext(connection) as few:
        link_unlinked_members()
    MemberAccount.objects.all().delete()
    Person.objects.all().delete()

    _base([partner, host, outsider], 200)
    with CaptureQueriesContext(connection) as many:
        link_unlinked_members()

    assert len(many) == len(few), [q["sql"] for q in many]
    assert len(few) <= 45  # a fixed number of set-based statements (and temp tables)
    assert not MemberAccount.objects.filter(person__isnull=True).exists()
    # 200 accounts: 2 of every 6 share an e-mail, 2 share a phone, 2 have nothing.
    # Every block of six accounts is four persons; the last two accounts share an e-mail.
    assert Person.objects.count() == 4 * 33 + 1


def test_an_account_without_email_does_not_bridge_two_people_with_different_emails(
    partner: Partner, host: Partner, outsider: Partner
) -> None:
    # Hanako is known at the host by e-mail and at the outsider by the family landline only.
    # Her husband Taro then joins the brand with his own e-mail and the same landline: he
    # disagrees with Hanako's person on e-mail, so he is not her, whatever order they came in.
    hanako, hanako_by_phone = _save(
        _unlinked(host, "H-1", email="hanako@example.jp", phone="03-1234-5678"),
        _unlinked(outsider, "O-1", phone="03-1234-5678"),
    )
    link_unlinked_members()
    assert _person(hanako) == _person(hanako_by_phone)

    (taro,) = _save(_unlinked(partner, "B-1", email="taro@example.jp", phone="03-1234-5678"))
    link_unlinked_members()

    assert _person(taro) is not None
    assert _person(taro) != _person(hanako)


def test_a_switchboard_phone_links_nobody_and_costs_no_more_than_grouping(
    partner: Partner, host: Partner
) -> None:
    # Thirty client companies list their office building's switchboard and no e-mail; later
    # thirty more, each with its own e-mail, arrive at another partner with the same number.
    switchboard = "03-0000-0000"
    _save(*(_unlinked(host, f"H-{n}", kind="business", phone=switchboard) for n in range(30)))
    link_unlinked_members()
    assert Person.objects.count() == 30  # not one person for thirty companies

    _save(
        *(
            _unlinked(
                partner, f"B-{n}", kind="business", phone=switchboard, email=f"co{n}@example.jp"
            )
            for n in range(30)
        )
    )
    with CaptureQueriesContext(connection) as queries:
        link_unlinked_members()

    assert Person.objects.count() == 60
    assert len(queries) <= 45


def test_different_emails_arriving_together_on_one_phone_do_not_all_join_its_person(
    partner: Partner, host: Partner
) -> None:
    # The household's landline is known at the host without e-mail; the parents then join the
    # brand in one import, each with an e-mail and the same landline: they are two people.
    (landline_only,) = _save(_unlinked(host, "H-1", phone="03-1234-5678"))
    link_unlinked_members()
    mother, father = _save(
        _unlinked(partner, "B-1", email="mother@example.jp", phone="03-1234-5678"),
        _unlinked(partner, "B-2", email="father@example.jp", phone="03-1234-5678"),
    )

    link_unlinked_members()

    assert _person(mother) != _person(father)
    assert _person(landline_only) not in (_person(mother), _person(father))


def test_persons_split_by_two_simultaneous_creates_are_merged_later(
    partner: Partner, host: Partner, outsider: Partner
) -> None:
    # Two transactions that commit at the same moment each gave Hanako a new person.
    first, second = Person.objects.create(), Person.objects.create()
    at_host, at_brand = (
        _unlinked(host, "H-1", email="hanako@example.jp"),
        _unlinked(partner, "B-1", email="HANAKO@example.jp"),
    )
    at_host.person, at_brand.person = first, second
    unrelated = _unlinked(outsider, "O-1", email="taro@example.jp")
    unrelated.person = Person.objects.create()
    _save(at_host, at_brand, unrelated)
    since = at_host.updated_at - datetime.timedelta(minutes=1)

    assert merge_persons_split_by_a_race(since=since) == 1

    assert _person(at_host) == _person(at_brand)
    assert Person.objects.count() == 2  # the emptied person is gone; Taro's is untouched
    assert merge_persons_split_by_a_race(since=since) == 0
