"""One rule of "consented now", five forms: the single check (read from the database), the
cached single check, the batch check, the consenting states (a queryset for set-based work)
and the SQL condition (raw set-based queries). Every form answers every generated case the
same way; the three that give reasons give the same reason. The grants a member still holds
(the preference page's list) are the rule's state conditions but the notice's."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from consent import selectors, services
from consent.models import ConsentState, PrivacyNotice
from consent.rule import Facts, Moment, decide
from consent.selectors import check
from partners.actors import Actor
from partners.models import MemberAccount, Partner
from partners.services import member_create
from tests.factories import make_notice

pytestmark = pytest.mark.django_db
PURPOSE = "profile_sharing"
NOW = timezone.now().replace(microsecond=0)
NOTICE_EFFECTIVE = (NOW - timedelta(days=2), NOW - timedelta(days=1))  # version 1, version 2


@dataclass
class World:
    member: MemberAccount
    recipient: Partner
    notices: tuple[PrivacyNotice, PrivacyNotice]


@pytest.fixture
def world(host: Partner, partner: Partner) -> World:
    member = member_create(
        partner=host,
        values={"member_number": "R-1", "kind": "household", "name": "佐藤 花子"},
        actor=Actor.system(),
    )
    notices = tuple(
        make_notice(
            version=version,
            text=f"第{version}版: 氏名を提携先に提供します。",
            purposes=[PURPOSE],
            recipients=[partner],
            data_items=["name"] if version == 1 else ["name", "email"],
            effective_at=effective_at,
        )
        for version, effective_at in enumerate(NOTICE_EFFECTIVE, start=1)
    )
    services.consent_grant(
        member=member,
        purpose_code=PURPOSE,
        recipient=partner,
        notice=notices[1],
        channel="host_portal",
        occurred_at=NOW - timedelta(hours=1),
        actor=Actor.system(),
    )
    return World(member, partner, notices)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Case:
    has_state: bool
    granted: bool
    expires_in: timedelta | None  # from ``at``; None: never
    notice_version: int | None  # the notice the member consented under; None: no notice
    member_status: str
    recipient_status: str
    at: datetime


cases = st.builds(
    Case,
    has_state=st.booleans(),
    granted=st.booleans(),
    expires_in=st.one_of(
        st.none(),
        st.sampled_from([timedelta(0), timedelta(seconds=-1), timedelta(seconds=1)]),
        st.timedeltas(min_value=timedelta(days=-30), max_value=timedelta(days=30)),
    ),
    notice_version=st.sampled_from([None, 1, 2]),
    member_status=st.sampled_from(MemberAccount.Status.values),
    recipient_status=st.sampled_from(Partner.Status.values),
    # Before any notice, under version 1 only, and under version 2.
    at=st.sampled_from([NOW - timedelta(days=3), NOW - timedelta(hours=36), NOW]),
)


def _arrange(world: World, case: Case) -> None:
    state = ConsentState.objects.filter(member=world.member, recipient=world.recipient)
    if not case.has_state:
        state.delete()
    notice = world.notices[case.notice_version - 1] if case.notice_version else None
    state.update(
        granted=case.granted,
        expires_at=case.at + case.expires_in if case.expires_in is not None else None,
        notice=notice,
    )
    MemberAccount.objects.filter(pk=world.member.pk).update(status=case.member_status)
    Partner.objects.filter(pk=world.recipient.pk).update(status=case.recipient_status)


def _every_form(world: World, at: datetime) -> dict[str, tuple[bool, str | None]]:
    member_id, recipient = world.member.pk, world.recipient
    recipient.refresh_from_db()
    single = selectors.consent_check(
        member_id=member_id, purpose_code=PURPOSE, recipient=recipient, at=at
    )
    check.check_cache.cache.clear()
    cached = check._check_cached(member_id, PURPOSE, recipient.pk, at)
    many = selectors.consent_check_many(
        member_ids=[member_id], purpose_code=PURPOSE, recipient=recipient, at=at
    )[member_id]
    states = selectors.consenting_states(purpose_code=PURPOSE, recipient=recipient, at=at)
    in_states = states.filter(member_id=member_id).exists()
    condition, params = selectors.consent_in_force_sql(
        member_column="member.id", purpose_code=PURPOSE, recipient=recipient, at=at
    )
    table = MemberAccount._meta.db_table
    with connection.cursor() as cursor:
        # The member's own status is the caller's to check with this form.
        cursor.execute(
            f"SELECT 1 FROM {table} member WHERE member.id = %s AND member.status = %s "  # noqa: S608
            f"AND {condition}",
            [member_id if connection.vendor == "postgresql" else member_id.hex, "active", *params],
        )
        in_sql = cursor.fetchone() is not None
    return {
        "single": (single.allowed, single.reason),
        "cached": (cached.allowed, cached.reason),
        "many": (many.allowed, many.reason),
        "states": (in_states, None),
        "sql": (in_sql, None),
    }


@hypothesis_settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=cases)
def test_every_form_of_the_rule_gives_the_same_answer(world: World, case: Case) -> None:
    sid = transaction.savepoint()
    try:
        _arrange(world, case)
        answers = _every_form(world, case.at)
        held = selectors.member_held_grants(world.member, at=case.at).exists()
    finally:
        transaction.savepoint_rollback(sid)

    assert held == _held_by_the_rule(case), (case, held)
    allowed = {form: answer[0] for form, answer in answers.items()}
    assert len(set(allowed.values())) == 1, (case, answers)
    reasons = {answers[form] for form in ("single", "cached", "many")}
    assert len(reasons) == 1, (case, answers)
    (only,) = reasons
    assert only[0] == (only[1] == "consented"), (case, answers)


def _held_by_the_rule(case: Case) -> bool:
    """The rule's own answer with every condition but withdrawal and expiry made to hold."""
    if not case.has_state:
        return False
    moment = Moment(at=case.at, conditions="in force")
    expires_at = case.at + case.expires_in if case.expires_in is not None else None
    facts = Facts(case.granted, expires_at, "in force", "active", "active")
    return decide(facts, moment).allowed


def test_the_generated_cases_reach_every_answer(world: World) -> None:
    """The rule has six ways to say no and one to say yes: a case for each, so the property
    above cannot pass by only ever meeting one of them."""
    base = Case(True, True, None, 2, "active", "active", NOW)
    variants = {
        "consented": base,
        "not_consented": Case(False, True, None, 2, "active", "active", NOW),
        "withdrawn": Case(True, False, None, 2, "active", "active", NOW),
        "expired": Case(True, True, timedelta(0), 2, "active", "active", NOW),
        "notice_changed": Case(True, True, None, 1, "active", "active", NOW),
        "member_unavailable": Case(True, True, None, 2, "inactive", "active", NOW),
        "recipient_unavailable": Case(True, True, None, 2, "active", "suspended", NOW),
    }
    for reason, case in variants.items():
        sid = transaction.savepoint()
        try:
            _arrange(world, case)
            answers = _every_form(world, case.at)
        finally:
            transaction.savepoint_rollback(sid)
        assert answers["single"] == (reason == "consented", reason), answers
        assert {a[0] for a in answers.values()} == {reason == "consented"}, answers
