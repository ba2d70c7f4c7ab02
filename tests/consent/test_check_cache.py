"""The single consent check's per-process cache stays exact: PostgreSQL tells it about every
change made anywhere (another process is played by a raw connection of its own), this process
forgets its own writes at once, a lost listener sends every check to the database, and a read
that raced a change is never stored."""

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from consent import check_cache
from consent.models import ConsentState, PrivacyNotice, Purpose
from consent.selectors import consent_check
from consent.services import consent_grant, consent_withdraw
from partners.actors import Actor
from partners.models import MemberAccount, Partner
from partners.services import member_create
from tests.factories import make_notice

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PURPOSE = "profile_sharing"


@pytest.fixture
def cache() -> check_cache.ConsentCache:
    assert check_cache.cache.usable(), "the listener did not start"
    return check_cache.cache


@pytest.fixture
def elsewhere() -> Iterator[psycopg.Connection[Any]]:
    """Another process's connection: its writes reach this one only through PostgreSQL."""
    with psycopg.connect(
        check_cache._conninfo(connection.settings_dict, "elsewhere"), autocommit=True
    ) as other:
        yield other


@pytest.fixture
def hanako(host: Partner, partner: Partner) -> MemberAccount:
    # A transactional test starts from empty tables: the purposes' seed migration is gone too.
    for code in (PURPOSE, "co_marketing_contact"):
        Purpose.objects.get_or_create(
            code=code,
            defaults={
                "name_ja": code,
                "name_en": code,
                "description_ja": "-",
                "description_en": "-",
            },
        )
    member = member_create(
        partner=host,
        values={"member_number": "K-1", "kind": "household", "name": "佐藤 花子"},
        actor=Actor.system(),
    )
    notice = make_notice(
        text="氏名を提携先に提供します。",
        purposes=[PURPOSE],
        recipients=[partner],
        data_items=["name"],
        effective_at=timezone.now() - timedelta(days=1),
    )
    consent_grant(
        member=member,
        purpose_code=PURPOSE,
        recipient=partner,
        notice=notice,
        channel="host_portal",
        occurred_at=timezone.now() - timedelta(minutes=5),
        actor=Actor.system(),
    )
    return member


def _check(member: MemberAccount, partner: Partner) -> Any:
    return consent_check(member_id=member.pk, purpose_code=PURPOSE, recipient=partner)


def _eventually(condition: Callable[[], bool], seconds: float = 3.0) -> float:
    """How long the condition took to hold; fails the test past ``seconds``."""
    started = time.perf_counter()
    while not condition():
        assert time.perf_counter() - started < seconds, "the change never reached the cache"
        time.sleep(0.001)
    return time.perf_counter() - started


def _cached(cache: Any, member: MemberAccount, partner: Partner) -> bool:
    return cache.state(member.pk, PURPOSE, partner.pk) is not check_cache.MISSING


def test_a_withdrawal_written_elsewhere_reaches_this_process(
    cache: Any, hanako: MemberAccount, partner: Partner, elsewhere: Any
) -> None:
    # The fixture's own grant is announced by PostgreSQL too, and on a busy machine its notice
    # may arrive after the first check and make the cache forget that check's answer: the
    # answer is kept once every notice so far has been read.
    _eventually(lambda: _check(hanako, partner).allowed and _cached(cache, hanako, partner))
    assert _check(hanako, partner).allowed  # answered from memory

    elsewhere.execute(
        "UPDATE consent_consentstate SET granted = false WHERE member_id = %s", [hanako.pk]
    )

    took = _eventually(lambda: _check(hanako, partner).reason == "withdrawn")
    assert took < 1.0


def test_this_process_forgets_its_own_withdrawal_at_once(
    cache: Any, hanako: MemberAccount, partner: Partner
) -> None:
    assert _check(hanako, partner).allowed

    consent_withdraw(
        member=hanako,
        purpose_code=PURPOSE,
        recipient=partner,
        channel="host_portal",
        occurred_at=timezone.now(),
        actor=Actor.system(),
    )

    assert _check(hanako, partner).reason == "withdrawn"


def test_a_member_status_or_partner_status_changed_elsewhere_counts_at_once(
    cache: Any, hanako: MemberAccount, partner: Partner, elsewhere: Any
) -> None:
    assert _check(hanako, partner).allowed

    elsewhere.execute(
        "UPDATE partners_memberaccount SET status = 'inactive' WHERE id = %s", [hanako.pk]
    )
    _eventually(lambda: _check(hanako, partner).reason == "member_unavailable")
    elsewhere.execute(
        "UPDATE partners_memberaccount SET status = 'active' WHERE id = %s", [hanako.pk]
    )
    _eventually(lambda: _check(hanako, partner).allowed)
    elsewhere.execute(
        "UPDATE partners_partner SET status = 'suspended' WHERE id = %s", [partner.pk]
    )
    _eventually(lambda: _check(hanako, partner).reason == "recipient_unavailable")


def test_a_new_notice_published_elsewhere_asks_for_consent_again(
    cache: Any, hanako: MemberAccount, partner: Partner, elsewhere: Any
) -> None:
    assert _check(hanako, partner).allowed
    notice = PrivacyNotice.objects.get()

    elsewhere.execute(
        "INSERT INTO consent_privacynotice (id, version, language, effective_at, text, "
        "content_sha256, conditions, conditions_sha256, created_at) "
        "VALUES (%s, 2, 'ja', now(), 'new', 'x', %s, 'changed', now())",
        [uuid.uuid4(), Jsonb(notice.conditions)],
    )

    _eventually(lambda: _check(hanako, partner).reason == "notice_changed")


def test_a_notice_that_takes_effect_later_counts_from_then_without_a_write(
    cache: Any, hanako: MemberAccount, partner: Partner
) -> None:
    make_notice(
        version=2,
        text="新しい提携先を追加します。",
        purposes=[PURPOSE, "co_marketing_contact"],
        recipients=[partner],
        data_items=["name"],
        effective_at=timezone.now() + timedelta(hours=1),
    )

    assert _check(hanako, partner).allowed
    later = consent_check(
        member_id=hanako.pk,
        purpose_code=PURPOSE,
        recipient=partner,
        at=timezone.now() + timedelta(hours=2),
    )
    assert later.reason == "notice_changed"


def test_without_its_listener_the_cache_answers_nothing(
    cache: Any, hanako: MemberAccount, partner: Partner, elsewhere: Any
) -> None:
    assert _check(hanako, partner).allowed
    elsewhere.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'sanpo-consent-listener' AND datname = current_database()"
    )
    _eventually(lambda: not cache.usable())
    # Changed while nobody listened: the notification is lost, yet the check must see it.
    elsewhere.execute(
        "UPDATE consent_consentstate SET granted = false WHERE member_id = %s", [hanako.pk]
    )

    assert _check(hanako, partner).reason == "withdrawn"
    _eventually(cache.usable)  # it reconnects, starting from an empty cache
    assert _check(hanako, partner).reason == "withdrawn"


def test_inside_a_transaction_the_check_sees_that_transaction(
    cache: Any, hanako: MemberAccount, partner: Partner
) -> None:
    assert _check(hanako, partner).allowed
    with transaction.atomic():
        ConsentState.objects.filter(member=hanako).update(granted=False)
        assert _check(hanako, partner).reason == "withdrawn"
        transaction.set_rollback(True)
    assert _check(hanako, partner).allowed


def test_a_read_that_raced_a_change_is_not_stored() -> None:
    cache = check_cache.ConsentCache(max_members=10)
    cache._ready.set()
    member, recipient = uuid.uuid4(), uuid.uuid4()
    generation = cache.generation

    cache.forget(f"m:{uuid.uuid4()}")  # any change while the read was on its way
    cache.store_state(member, PURPOSE, recipient, None, generation=generation)

    assert cache.state(member, PURPOSE, recipient) is check_cache.MISSING


def test_the_cache_holds_a_bounded_number_of_members() -> None:
    cache = check_cache.ConsentCache(max_members=2)
    cache._ready.set()
    members = [uuid.uuid4() for _ in range(3)]
    recipient = uuid.uuid4()

    for member in members:
        cache.store_state(member, PURPOSE, recipient, None, generation=cache.generation)

    assert cache.state(members[0], PURPOSE, recipient) is check_cache.MISSING
    assert cache.state(members[2], PURPOSE, recipient) is None
