"""Holdout groups: the same stable assignment in Python and in SQL, recorded once with its
seed, and a held-out member who comes back gets no reactivation bonus (recorded, for the
metrics) while a treated one does."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.db import connection
from django.utils import timezone

from federation.agreements.terms import TermsError, terms_clean
from federation.coins.models import CoinActionGrant, CoinActivity, CoinReactivation, CoinTransaction
from federation.coins.services import coins_earn_for_action, coins_earn_for_purchase
from federation.coins.services.actions import action_key, reactivation_key
from federation.holdouts.models import Holdout
from federation.holdouts.selectors import bucket, bucket_sql, is_held_out, threshold
from federation.holdouts.services import held_out, holdout_for
from federation.models import Agreement
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import AuditEvent, MemberAccount, Partner, Person
from partners.services import member_person
from tests.factories import coin_terms, grant_consent, make_agreement, make_member, make_notice

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


def test_a_tenth_is_held_out_and_the_assignment_is_stable() -> None:
    holdout = Holdout(key="k", percent=Decimal(10), seed="fixed-seed")
    held = [n for n in range(20_000) if is_held_out(holdout, n)]
    assert 0.09 < len(held) / 20_000 < 0.11
    assert held == [n for n in range(20_000) if is_held_out(holdout, n)]
    other = Holdout(key="k", percent=Decimal(10), seed="another-seed")
    assert held != [n for n in range(20_000) if is_held_out(other, n)]
    assert not any(is_held_out(Holdout(percent=Decimal(0), seed="s"), n) for n in range(1000))
    assert not is_held_out(None, 1)


def test_sql_assigns_exactly_as_python_does(host: Partner) -> None:
    persons = Person.objects.bulk_create(Person() for _ in range(200))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {bucket_sql('id')} FROM partners_person", ["seed-1"])  # noqa: S608
        from_sql = {str(uuid.UUID(str(pk))): value for pk, value in cursor.fetchall()}
        cursor.execute(f"SELECT {bucket_sql('id')} FROM partners_partner", ["seed-1"])  # noqa: S608
        assert cursor.fetchone()[0] == bucket("seed-1", host.pk)
    assert from_sql == {str(p.pk): bucket("seed-1", p.pk) for p in persons}
    assert threshold(Decimal(10)) == 429_496_729


def test_a_programme_records_its_holdout_once_with_the_default_share(
    settings: object, host: Partner
) -> None:
    settings.SANPO_HOLDOUT_PERCENT = 10  # type: ignore[attr-defined]
    first = holdout_for(kind=Holdout.Kind.REACTIVATION, key="reactivation:host-co", company=host)
    again = holdout_for(
        kind=Holdout.Kind.REACTIVATION,
        key="reactivation:host-co",
        company=host,
        percent=Decimal(30),
    )
    assert again == first
    assert first.percent == Decimal(10)
    assert len(first.seed) == 32
    event = AuditEvent.objects.get(action="holdouts.created")
    assert event.detail["seed"] == first.seed
    assert event.partner == host


# --- The reactivation bonus asks ---------------------------------------------------------------


@pytest.fixture
def agreed(host: Partner, partner: Partner) -> Agreement:
    make_notice(purposes=["coin_exchange"], recipients=[partner], data_items=["name"])
    actions = [{"party": host.slug, "type": "video_watched", "coins": 5}]
    terms = coin_terms(
        host,
        partner,
        actions=actions,
        coins_per_100_yen="1",
        reactivation_days=90,
        reactivation_bonus=100,
    )
    return make_agreement(host, partner, terms=terms)


def _dormant(host: Partner, partner: Partner, number: str) -> MemberAccount:
    member = make_member(host, number)
    grant_consent(member, partner, "coin_exchange")
    coins_earn_for_purchase(
        company=host, member=member, amount_yen=Decimal(1000), order_id=number, actor=SYSTEM
    )
    member.refresh_from_db()
    CoinActivity.objects.filter(person=member.person).update(
        last_active_at=timezone.now() - timedelta(days=120)
    )
    return member


def _seed_splitting(held: MemberAccount, treated: MemberAccount) -> str:
    """A seed under which, at 50%, ``held`` is held out and ``treated`` is not."""
    limit = threshold(Decimal(50))
    for n in count():
        seed = f"split-{n}"
        if bucket(seed, held.person_id) < limit <= bucket(seed, treated.person_id):
            return seed
    raise AssertionError  # pragma: no cover


@pytest.mark.usefixtures("agreed")
def test_a_held_out_member_who_comes_back_gets_no_bonus_and_is_recorded(
    host: Partner, partner: Partner
) -> None:
    kept, told = _dormant(host, partner, "K-1"), _dormant(host, partner, "K-2")
    holdout_for(
        kind=Holdout.Kind.REACTIVATION,
        key=reactivation_key(host),
        company=host,
        percent=Decimal(50),
        seed=_seed_splitting(kept, told),
    )
    for member in (kept, told):
        coins_earn_for_action(
            company=host, member=member, action_type="video_watched", content_id="", actor=SYSTEM
        )
    quiet = CoinReactivation.objects.get(member=kept)
    assert (quiet.held_out, quiet.bonus, quiet.bonus_transaction_id) == (True, 0, None)
    rewarded = CoinReactivation.objects.get(member=told)
    assert (rewarded.held_out, rewarded.bonus) == (False, 100)
    assert CoinTransaction.objects.filter(kind="bonus").count() == 1
    assert held_out(
        kind=Holdout.Kind.REACTIVATION,
        key=reactivation_key(host),
        company=host,
        subject_id=kept.person_id,
    )


# --- An action rule may keep one ---------------------------------------------------------------


def test_an_action_rule_with_a_holdout_earns_its_held_out_members_nothing(
    host: Partner, partner: Partner
) -> None:
    make_notice(purposes=["coin_exchange"], recipients=[partner], data_items=["name"])
    actions = [{"party": host.slug, "type": "video_watched", "coins": 5, "holdout_percent": 50}]
    make_agreement(host, partner, terms=coin_terms(host, partner, actions=actions))
    kept, told = make_member(host, "K-1"), make_member(host, "K-2")
    for member in (kept, told):
        grant_consent(member, partner, "coin_exchange")
        member_person(member)
        member.refresh_from_db()  # its person, made on first use
    holdout_for(
        kind=Holdout.Kind.ACTION_RULE,
        key=action_key(host, "video_watched"),
        company=host,
        percent=Decimal(50),
        seed=_seed_splitting(kept, told),
    )
    with pytest.raises(ApplicationError) as refused:
        coins_earn_for_action(
            company=host, member=kept, action_type="video_watched", content_id="", actor=SYSTEM
        )
    assert refused.value.code == "action_held_out"
    assert not CoinActionGrant.objects.filter(member=kept).exists()
    earned = coins_earn_for_action(
        company=host, member=told, action_type="video_watched", content_id="", actor=SYSTEM
    )
    assert earned.grant.coins == 5


@pytest.mark.parametrize("share", [0, 51, "10", True, 12.5])
def test_an_action_rules_holdout_is_a_whole_percent_up_to_50(share: object) -> None:
    action = {"party": "host", "type": "video_watched", "coins": 5, "holdout_percent": share}
    program = {"yen_per_coin": "1", "rate_to_shared": "1"}
    document = {
        "data_flows": [],
        "coin": {"exchange": False, "programs": {"host": program}, "actions": [action]},
    }
    with pytest.raises(TermsError) as refused:
        terms_clean(document, parties=["host", "brand"], purposes=[])
    assert "coin.actions[0].holdout_percent" in refused.value.errors
