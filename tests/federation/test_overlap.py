"""Overlap between member bases: counts only, over the blind indexes, only of members who
consented on both sides, with small cells withheld so that no question reveals one."""

import itertools
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.services import consent_grant, notice_publish
from federation import services
from federation.models import Agreement, OverlapQuery
from federation.services import PartyInput
from partners import services as partner_services
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import AuditEvent, MemberAccount, Partner

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
TODAY = timezone.localdate()
MIN_CELL = 10


@pytest.fixture(autouse=True)
def _exact_counts(settings: Any) -> None:
    # Exact counts, to check the suppression rule to the member; perturbation has tests of its
    # own (test_overlap.py).
    settings.SANPO_OVERLAP_PERTURBATION = 0


def _member(partner: Partner, number: str, email: str, **values: Any) -> MemberAccount:
    return partner_services.member_create(
        partner=partner,
        values={
            "member_number": number,
            "kind": "household",
            "name": "会員",
            "email": email,
            **values,
        },
        actor=SYSTEM,
    )


def _consent(member: MemberAccount, recipient: Partner) -> None:
    from consent.models import PrivacyNotice

    consent_grant(
        member=member,
        purpose_code="overlap_matching",
        recipient=recipient,
        notice=PrivacyNotice.objects.get(),
        channel="host_portal" if member.partner.kind == Partner.Kind.HOST else "partner_app",
        occurred_at=timezone.now() - timedelta(minutes=5),
        actor=SYSTEM,
    )


@pytest.fixture
def alliance(host: Partner, partner: Partner) -> Agreement:
    notice_publish(
        version=1,
        language="ja",
        text="会員の重複を件数で確認します。",
        purposes=["overlap_matching"],
        recipients=[host, partner],
        data_items=["kind", "age_band"],
        effective_at=timezone.now() - timedelta(days=1),
    )
    agreement = services.agreement_create(
        title="Host and Brand overlap",
        host=host,
        parties=[
            PartyInput(host, "Host contact", "alliance@host.example"),
            PartyInput(partner, "Brand contact", "alliance@brand.example"),
        ],
        terms={
            "data_flows": [
                {
                    "provider": partner.slug,
                    "recipient": host.slug,
                    "purpose": "overlap_matching",
                    "fields": ["kind", "age_band"],
                }
            ],
            "overlap": {"min_cell": MIN_CELL},
        },
        effective_from=TODAY,
        valid_until=TODAY + timedelta(days=365),
        actor=SYSTEM,
    )
    version = services.version_propose(version=agreement.versions.get(), actor=SYSTEM)
    for who in (host, partner):
        services.version_sign(version=version, partner=who, signed_by="CEO", actor=SYSTEM)
    services.overlap_visibility_set(owner=partner, viewer=host, level="counts", actor=SYSTEM)
    agreement.refresh_from_db()
    return agreement


def _shared_people(
    host: Partner, partner: Partner, count: int, *, start: int = 0, **values: Any
) -> None:
    """``count`` people in both bases, spelt differently, all consenting on both sides."""
    for n in range(start, start + count):
        mine = _member(host, f"H-{n}", f"person{n}@example.jp", **values)
        theirs = _member(partner, f"B-{n}", f"PERSON{n}@EXAMPLE.JP", **values)
        _consent(mine, partner)
        _consent(theirs, host)


def _ask(host: Partner, partner: Partner, breakdown: str = "") -> Any:
    return services.overlap_counts(asker=host, other=partner, breakdown=breakdown, actor=SYSTEM)


def test_the_overlap_counts_people_in_both_bases_who_consented_on_both_sides(
    alliance: Agreement, host: Partner, partner: Partner
) -> None:
    _shared_people(host, partner, 12)
    # In both bases, but the brand's account never consented: not counted.
    mine = _member(host, "H-x", "nope@example.jp")
    _consent(mine, partner)
    _member(partner, "B-x", "nope@example.jp")
    # Matched by phone alone, with different e-mails.
    by_phone = _member(host, "H-p", "a@example.jp", phone="090-1234-5678")
    theirs = _member(partner, "B-p", "b@example.jp", phone="+81 90 1234 5678")
    _consent(by_phone, partner)
    _consent(theirs, host)
    # Only in the host's base.
    _consent(_member(host, "H-only", "only@example.jp"), partner)

    with CaptureQueriesContext(connection) as queries:
        result = _ask(host, partner)

    assert result.total == 13
    assert result.cells == {"all": 13}
    assert len(queries) <= 13  # the matching itself is one query, whatever the base sizes
    (logged,) = OverlapQuery.objects.all()
    assert (logged.asker, logged.other, logged.min_cell) == (host, partner, MIN_CELL)


def test_small_overlaps_are_withheld_entirely(
    alliance: Agreement, host: Partner, partner: Partner
) -> None:
    _shared_people(host, partner, MIN_CELL - 1)

    result = _ask(host, partner, "kind")

    assert result.total is None
    assert set(result.cells.values()) == {None}


def test_a_lone_small_cell_takes_the_smallest_other_cell_with_it(
    alliance: Agreement, host: Partner, partner: Partner
) -> None:
    _shared_people(host, partner, 12, birth_date="1985-01-01")  # one band: 40-49 (in 2026)
    _shared_people(host, partner, 11, start=100, birth_date="1995-01-01")  # 30-39
    _shared_people(host, partner, 3, start=200, birth_date="1975-01-01")  # 50-59: too small

    result = _ask(host, partner, "age_band")

    assert result.total == 26
    # 50-59 is withheld; 30-39 (the smallest shown) too, or 26 - 12 - 11 would reveal it.
    assert result.cells == {"30-39": None, "40-49": 12, "50-59": None}


def test_no_overlap_without_visibility_an_agreement_or_a_known_breakdown(
    alliance: Agreement, host: Partner, partner: Partner, outsider: Partner
) -> None:
    _shared_people(host, partner, MIN_CELL)

    with pytest.raises(ApplicationError) as not_shared:
        services.overlap_counts(asker=partner, other=host, breakdown="", actor=SYSTEM)
    with pytest.raises(ApplicationError) as no_agreement:
        _ask(host, outsider)
    with pytest.raises(ApplicationError) as bad:
        _ask(host, partner, "email")

    # The host agreed to no flow towards the brand for overlap: no agreement, whatever the
    # visibility.
    assert not_shared.value.code == ErrorCode.NO_AGREEMENT
    assert no_agreement.value.code == ErrorCode.NO_AGREEMENT
    assert bad.value.code == ErrorCode.VALIDATION_FAILED
    services.overlap_visibility_set(owner=partner, viewer=host, level="nothing", actor=SYSTEM)
    with pytest.raises(ApplicationError) as hidden:
        _ask(host, partner)
    assert hidden.value.code == ErrorCode.PERMISSION_DENIED
    assert not OverlapQuery.objects.exists()  # only answered questions are logged


def test_a_member_counts_once_whichever_way_it_matches(
    alliance: Agreement, host: Partner, partner: Partner
) -> None:
    _shared_people(host, partner, MIN_CELL - 2)
    # Same e-mail and same phone: counted once.
    both = _member(host, "H-b", "both@example.jp", phone="090-1111-2222")
    _consent(both, partner)
    _consent(_member(partner, "B-b", "both@example.jp", phone="09011112222"), host)
    # Same e-mail and phone as an account that never consented, and the same phone as one
    # that did: counted, through the phone.
    twice = _member(host, "H-t", "twice@example.jp", phone="090-3333-4444")
    _consent(twice, partner)
    _member(partner, "B-t1", "twice@example.jp", phone="090-3333-4444")
    _consent(_member(partner, "B-t2", "other@example.jp", phone="090-3333-4444"), host)
    # Known to the brand by phone alone, without an e-mail: counted.
    by_phone = _member(host, "H-p", "phone@example.jp", phone="090-5555-6666")
    _consent(by_phone, partner)
    _consent(_member(partner, "B-p", "", phone="090-5555-6666"), host)

    result = _ask(host, partner)

    assert result.total == MIN_CELL + 1


def test_a_suspended_agreement_stops_overlap(
    alliance: Agreement, host: Partner, partner: Partner
) -> None:
    _shared_people(host, partner, MIN_CELL)
    services.agreement_suspend(agreement=alliance, reason="Review", actor=SYSTEM)

    with pytest.raises(ApplicationError) as refused:
        _ask(host, partner)

    assert refused.value.code == ErrorCode.NO_AGREEMENT


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({"a": 50, "b": 60}, (110, {"a": 50, "b": 60})),
        ({"a": 5, "b": 60, "c": 70}, (135, {"a": None, "b": None, "c": 70})),
        ({"a": 5, "b": 6, "c": 70}, (81, {"a": None, "b": None, "c": 70})),
        ({"a": 5, "b": 3}, (None, {"a": None, "b": None})),
        ({"a": 5, "b": 60}, (65, {"a": None, "b": None})),
    ],
)
def test_the_suppression_rule(counts: dict[str, int], expected: Any) -> None:
    from federation.services.overlap import _Cell, _suppress

    assert _suppress({segment: _Cell(n, 0) for segment, n in counts.items()}, 10) == expected


def test_a_change_of_visibility_is_in_the_audit_log(
    alliance: Agreement, host: Partner, partner: Partner
) -> None:
    services.overlap_visibility_set(owner=partner, viewer=host, level="nothing", actor=SYSTEM)

    logged = AuditEvent.objects.filter(action="overlap.visibility_set").order_by("id")
    assert [(e.partner, e.detail["level"]) for e in logged] == [
        (partner, "counts"),
        (partner, "nothing"),
    ]


def test_counts_move_a_little_and_always_the_same_for_the_same_members(
    alliance: Agreement, host: Partner, partner: Partner, settings: Any
) -> None:
    settings.SANPO_OVERLAP_PERTURBATION = 2
    _shared_people(host, partner, 12, birth_date="1985-01-01")
    _shared_people(host, partner, 11, start=100, birth_date="1995-01-01")

    first = _ask(host, partner, "age_band")
    again = _ask(host, partner, "age_band")

    assert again == first  # asking again averages nothing away
    assert first.total is not None
    assert abs(first.total - 23) <= 2
    exact = {"30-39": 11, "40-49": 12}
    assert first.cells.keys() == exact.keys()
    for segment, count in first.cells.items():
        assert count is not None
        assert abs(count - exact[segment]) <= 2


def test_one_member_more_does_not_show_as_one_more(
    alliance: Agreement, host: Partner, partner: Partner, settings: Any
) -> None:
    """A company that adds its members one at a time and asks after each cannot tell which of
    them are in the other base: the answers do not step by one."""
    settings.SANPO_OVERLAP_PERTURBATION = 2
    _shared_people(host, partner, MIN_CELL)
    answers = []
    for n in range(30):
        _shared_people(host, partner, 1, start=1000 + n)
        total = _ask(host, partner).total
        assert total is not None
        answers.append(total)

    exact = range(MIN_CELL + 1, MIN_CELL + 31)
    moves = [shown - count for shown, count in zip(answers, exact, strict=True)]
    assert all(-2 <= move <= 2 for move in moves)
    steps = [later - earlier for earlier, later in itertools.pairwise(answers)]
    # Each step is one member; the chance that all 29 show as exactly one is below 1e-18.
    assert any(step != 1 for step in steps), steps
    assert len(set(moves)) > 1
