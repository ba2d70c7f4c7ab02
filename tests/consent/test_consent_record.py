"""The consent record: grants and withdrawals on a per-member hash chain, and the one question
every feature asks before it uses member data."""

from datetime import datetime, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.models import ConsentEvent, ConsentState, PrivacyNotice
from consent.selectors import consent_check, consent_check_many, consented_member_ids
from consent.services import (
    chain_verify,
    chains_verify_all,
    consent_grant,
    consent_withdraw,
    notice_publish,
    verification,
)
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import AuditEvent, MemberAccount, Partner
from partners.services import member_create, member_deactivate, member_erase, partner_suspend
from tests.factories import make_member

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
PORTAL = "host_portal"


@pytest.fixture
def notice(host: Partner, partner: Partner) -> PrivacyNotice:
    return notice_publish(
        version=1,
        language="ja",
        text="きらりホームサービスは、同意いただいた項目を提携先に提供します。",
        purposes=["cross_enrollment", "co_marketing_contact"],
        recipients=[host, partner],
        data_items=["name", "email"],
        effective_at=timezone.now() - timedelta(days=1),
        actor=Actor.system(),
    )


@pytest.fixture
def hanako(host: Partner) -> MemberAccount:
    return member_create(
        partner=host,
        values={"member_number": "K-1", "kind": "household", "name": "佐藤 花子"},
        actor=Actor.system(),
    )


def _grant(member: MemberAccount, recipient: Partner, notice: PrivacyNotice, **extra: Any) -> Any:
    options: dict[str, Any] = {
        "purpose_code": "cross_enrollment",
        "channel": PORTAL,
        "occurred_at": timezone.now().astimezone(TOKYO) - timedelta(minutes=1),
        "actor": Actor.system(),
    }
    options.update(extra)
    return consent_grant(member=member, recipient=recipient, notice=notice, **options)


def _check(member: MemberAccount, recipient: Partner, purpose: str = "cross_enrollment") -> Any:
    return consent_check(member_id=member.pk, purpose_code=purpose, recipient=recipient)


def test_a_grant_allows_exactly_that_purpose_for_exactly_that_recipient(
    hanako: MemberAccount, notice: PrivacyNotice, partner: Partner, outsider: Partner
) -> None:
    assert _check(hanako, partner).reason == "not_consented"

    _grant(hanako, partner, notice)

    assert _check(hanako, partner).allowed
    assert _check(hanako, partner, "co_marketing_contact").reason == "not_consented"
    assert _check(hanako, outsider).reason == "not_consented"


def test_a_withdrawal_takes_effect_at_once_and_only_a_grant_can_be_withdrawn(
    hanako: MemberAccount, notice: PrivacyNotice, partner: Partner
) -> None:
    with pytest.raises(ApplicationError) as never_given:
        consent_withdraw(
            member=hanako,
            purpose_code="cross_enrollment",
            recipient=partner,
            channel="preference_page",
            occurred_at=timezone.now(),
            actor=Actor.system(),
        )
    assert never_given.value.code == ErrorCode.CONFLICT
    _grant(hanako, partner, notice)

    consent_withdraw(
        member=hanako,
        purpose_code="cross_enrollment",
        recipient=partner,
        channel="preference_page",
        occurred_at=timezone.now(),
        actor=Actor.system(),
    )

    assert _check(hanako, partner).reason == "withdrawn"
    assert list(ConsentEvent.objects.values_list("sequence", "action")) == [
        (1, "granted"),
        (2, "withdrawn"),
    ]


def test_an_expired_consent_no_longer_allows(
    hanako: MemberAccount, notice: PrivacyNotice, partner: Partner
) -> None:
    expires = timezone.now() + timedelta(days=30)
    _grant(hanako, partner, notice, expires_at=expires)

    assert _check(hanako, partner).allowed
    decision = consent_check(
        member_id=hanako.pk,
        purpose_code="cross_enrollment",
        recipient=partner,
        at=expires + timedelta(seconds=1),
    )
    assert decision.reason == "expired"


def test_a_notice_with_new_conditions_needs_consent_again_but_a_reworded_one_does_not(
    hanako: MemberAccount, notice: PrivacyNotice, host: Partner, partner: Partner, outsider: Partner
) -> None:
    _grant(hanako, partner, notice)
    notice_publish(
        version=2,
        language="ja",
        text="表現を改めました。" + notice.text,
        purposes=notice.conditions["purposes"],
        recipients=[host, partner],
        data_items=notice.conditions["data_items"],
        effective_at=timezone.now() - timedelta(hours=1),
        actor=Actor.system(),
    )
    assert _check(hanako, partner).allowed  # same conditions: the consent stands

    v3 = notice_publish(
        version=3,
        language="ja",
        text="新しい提携先が加わりました。",
        purposes=notice.conditions["purposes"],
        recipients=[host, partner, outsider],
        data_items=notice.conditions["data_items"],
        effective_at=timezone.now() - timedelta(minutes=1),
        actor=Actor.system(),
    )

    assert _check(hanako, partner).reason == "notice_changed"
    _grant(hanako, partner, v3)
    assert _check(hanako, partner).allowed


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"purpose_code": "astrology"}, "purpose"),
        ({"channel": ""}, "channel"),
        ({"occurred_at": datetime(2026, 11, 1, 10, 0)}, "occurred_at"),  # naive
        ({"occurred_at": timezone.now() + timedelta(hours=1)}, "occurred_at"),
        ({"expires_at": timezone.now() - timedelta(days=1)}, "expires_at"),
        ({"purpose_code": "research_survey"}, "notice"),  # not covered by the notice
    ],
    ids=["unknown purpose", "no channel", "naive time", "future time", "expired", "uncovered"],
)
def test_a_bad_grant_is_refused_and_records_nothing(
    hanako: MemberAccount,
    notice: PrivacyNotice,
    partner: Partner,
    change: dict[str, Any],
    field: str,
) -> None:
    with pytest.raises(ApplicationError) as refused:
        _grant(hanako, partner, notice, **change)

    assert refused.value.code == ErrorCode.VALIDATION_FAILED
    assert field in refused.value.fields
    assert not ConsentEvent.objects.exists()
    assert not ConsentState.objects.exists()


def test_a_superseded_notice_or_an_uncovered_recipient_is_refused(
    hanako: MemberAccount, notice: PrivacyNotice, host: Partner, partner: Partner, outsider: Partner
) -> None:
    with pytest.raises(ApplicationError) as uncovered:
        _grant(hanako, outsider, notice)
    assert "does not cover" in uncovered.value.message
    notice_publish(
        version=2,
        language="ja",
        text="新しい条件",
        purposes=["cross_enrollment"],
        recipients=[host, partner, outsider],
        data_items=["name"],
        effective_at=timezone.now() - timedelta(minutes=1),
        actor=Actor.system(),
    )

    with pytest.raises(ApplicationError) as superseded:
        _grant(hanako, partner, notice)

    assert "superseded" in superseded.value.message
    assert not ConsentEvent.objects.exists()


def test_erased_members_and_suspended_recipients_are_never_allowed(
    hanako: MemberAccount, notice: PrivacyNotice, partner: Partner, alliance_manager: Any
) -> None:
    _grant(hanako, partner, notice)
    partner_suspend(partner=partner, actor=Actor(user=alliance_manager))
    partner.refresh_from_db()
    assert _check(hanako, partner).reason == "recipient_unavailable"

    member_erase(member=hanako, actor=Actor.system())
    assert _check(hanako, Partner.objects.get(pk=partner.pk)).allowed is False


def test_many_members_are_checked_in_a_fixed_number_of_queries(
    host: Partner, notice: PrivacyNotice, partner: Partner
) -> None:
    members = [
        member_create(
            partner=host,
            values={"member_number": f"K-{n}", "kind": "household", "name": "会員"},
            actor=Actor.system(),
        )
        for n in range(20)
    ]
    for member in members[::2]:
        _grant(member, partner, notice)

    with CaptureQueriesContext(connection) as queries:
        decisions = consent_check_many(
            member_ids=[m.pk for m in members], purpose_code="cross_enrollment", recipient=partner
        )

    assert len(queries) == 2  # the notice in force, then every member's state
    assert [decisions[m.pk].allowed for m in members] == [n % 2 == 0 for n in range(20)]
    # The single check (one prepared statement) and the batch (the ORM) decide alike.
    assert all(decisions[m.pk] == _check(m, partner) for m in members)


def test_the_chain_detects_an_edited_or_deleted_event(
    hanako: MemberAccount, notice: PrivacyNotice, partner: Partner
) -> None:
    for _ in range(3):
        _grant(hanako, partner, notice)
    assert chain_verify(member=hanako) is None
    second = ConsentEvent.objects.get(member=hanako, sequence=2)

    # Someone with database access backdates the second grant.
    ConsentEvent.objects.filter(pk=second.pk).update(
        occurred_at=second.occurred_at - timedelta(days=400)
    )
    broken = chain_verify(member=hanako)
    assert broken is not None
    assert (broken.sequence, broken.problem) == (2, "was changed after it was written")

    ConsentState.objects.filter(event=second).delete()
    ConsentEvent.objects.filter(pk=second.pk).delete()
    broken = chain_verify(member=hanako)
    assert broken is not None
    assert (broken.sequence, broken.problem) == (2, "event #2 is missing")

    out = StringIO()
    with pytest.raises(CommandError, match="1 broken"):
        call_command("verify_consent_chains", stdout=out)
    assert "K-1" in out.getvalue()


def test_the_nightly_run_reads_every_chain_and_keeps_the_first_breaks_by_member_number(
    host: Partner, partner: Partner, notice: PrivacyNotice, monkeypatch: Any
) -> None:
    members = [make_member(host, number) for number in ("K-3", "K-1", "K-4", "K-2")]
    for member in members:
        _grant(member, partner, notice)
        _grant(member, partner, notice)
    intact = members[3]  # K-2
    broken = ConsentEvent.objects.filter(sequence=2).exclude(member=intact)
    broken.update(captured_by="someone else")
    monkeypatch.setattr(verification, "MAX_RECORDED_BREAKS", 2)

    run = chains_verify_all()

    assert (run.chains_checked, run.events_checked) == (4, 8)
    assert [(b["member_number"], b["sequence"]) for b in run.breaks] == [("K-1", 2), ("K-3", 2)]
    assert {b["problem"] for b in run.breaks} == {"was changed after it was written"}


def test_a_withdrawal_dated_before_its_grant_is_refused(
    hanako: MemberAccount, notice: PrivacyNotice, partner: Partner
) -> None:
    _grant(hanako, partner, notice, occurred_at=timezone.now() - timedelta(minutes=5))

    with pytest.raises(ApplicationError) as refused:
        consent_withdraw(
            member=hanako,
            purpose_code="cross_enrollment",
            recipient=partner,
            channel="preference_page",
            occurred_at=timezone.now() - timedelta(hours=1),
            actor=Actor.system(),
        )

    assert "occurred_at" in refused.value.fields
    assert _check(hanako, partner).allowed


def test_the_set_based_form_agrees_with_the_check(
    host: Partner, notice: PrivacyNotice, partner: Partner
) -> None:
    members = [
        member_create(
            partner=host,
            values={"member_number": f"S-{n}", "kind": "household", "name": "会員"},
            actor=Actor.system(),
        )
        for n in range(5)
    ]
    _grant(members[0], partner, notice)  # in force
    _grant(members[1], partner, notice)
    consent_withdraw(
        member=members[1],
        purpose_code="cross_enrollment",
        recipient=partner,
        channel=PORTAL,
        occurred_at=timezone.now(),
        actor=Actor.system(),
    )
    _grant(members[2], partner, notice, expires_at=timezone.now() + timedelta(hours=1))
    _grant(members[3], partner, notice)
    member_deactivate(member=members[3], actor=Actor.system())
    later = timezone.now() + timedelta(hours=2)  # members[2]'s consent has expired by then

    found = set(consented_member_ids(purpose_code="cross_enrollment", recipient=partner, at=later))
    decisions = consent_check_many(
        member_ids=[m.pk for m in members],
        purpose_code="cross_enrollment",
        recipient=partner,
        at=later,
    )

    assert found == {members[0].pk}
    assert found == {member_id for member_id, decision in decisions.items() if decision.allowed}


def test_publishing_a_notice_is_audited_with_whoever_published_it(
    notice: PrivacyNotice, alliance_manager: Any
) -> None:
    (event,) = AuditEvent.objects.filter(action="notice.published")

    assert (event.object_id, event.actor_label) == (str(notice.pk), "system")
    assert event.detail["conditions_sha256"] == notice.conditions_sha256
    with pytest.raises(ApplicationError):
        notice_publish(  # the same version and language again: refused, nothing audited
            version=1,
            language="ja",
            text="二度目",
            purposes=["cross_enrollment"],
            recipients=[],
            data_items=["name"],
            effective_at=timezone.now(),
            actor=Actor(user=alliance_manager),
        )
    assert AuditEvent.objects.filter(action="notice.published").count() == 1
