"""Overlap between member bases: counts only, over the blind indexes, only of members who
consented on both sides, with small cells withheld so that no question reveals one."""

import random
import statistics
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from federation import services
from federation.agreements.terms import TermsError, terms_clean
from federation.errors import FederationErrorCode
from federation.models import Agreement, OverlapQuery
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import AuditEvent, Partner
from tests.federation.conftest import (
    OVERLAP_MIN_CELL,
    grant_overlap_consent,
    overlap_member,
    shared_people,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("exact_overlap_counts")]
SYSTEM = Actor.system()
TODAY = timezone.localdate()


def _ask(host: Partner, partner: Partner, breakdown: str = "") -> Any:
    return services.overlap_counts(asker=host, other=partner, breakdown=breakdown, actor=SYSTEM)


def test_the_overlap_counts_people_in_both_bases_who_consented_on_both_sides(
    alliance: Agreement, host: Partner, partner: Partner
) -> None:
    shared_people(host, partner, 12)
    # In both bases, but the brand's account never consented: not counted.
    mine = overlap_member(host, "H-x", "nope@example.jp")
    grant_overlap_consent(mine, partner)
    overlap_member(partner, "B-x", "nope@example.jp")
    # Matched by phone alone, with different e-mails.
    by_phone = overlap_member(host, "H-p", "a@example.jp", phone="090-1234-5678")
    theirs = overlap_member(partner, "B-p", "b@example.jp", phone="+81 90 1234 5678")
    grant_overlap_consent(by_phone, partner)
    grant_overlap_consent(theirs, host)
    # Only in the host's base.
    grant_overlap_consent(overlap_member(host, "H-only", "only@example.jp"), partner)

    with CaptureQueriesContext(connection) as queries:
        result = _ask(host, partner)

    assert result.total == 13
    assert result.cells == {"all": 13}
    # The matching itself is one query, whatever the base sizes.
    shared_people(host, partner, 5, start=500)
    with CaptureQueriesContext(connection) as more:
        assert _ask(host, partner).total == 18
    assert len(more) == len(queries) <= 16
    logged = list(OverlapQuery.objects.all())
    assert [(q.asker, q.other, q.min_cell) for q in logged] == [
        (host, partner, OVERLAP_MIN_CELL)
    ] * 2


def test_small_overlaps_are_withheld_entirely(
    alliance: Agreement, host: Partner, partner: Partner
) -> None:
    shared_people(host, partner, OVERLAP_MIN_CELL - 1)

    result = _ask(host, partner, "kind")

    assert result.total is None
    assert set(result.cells.values()) == {None}


def test_a_lone_small_cell_takes_the_smallest_other_cell_with_it(
    alliance: Agreement, host: Partner, partner: Partner
) -> None:
    shared_people(host, partner, 12, birth_date="1985-01-01")  # one band: 40-49 (in 2026)
    shared_people(host, partner, 11, start=100, birth_date="1995-01-01")  # 30-39
    shared_people(host, partner, 3, start=200, birth_date="1975-01-01")  # 50-59: too small

    result = _ask(host, partner, "age_band")

    assert result.total == 26
    # 50-59 is withheld; 30-39 (the smallest shown) too, or 26 - 12 - 11 would reveal it.
    assert result.cells == {"30-39": None, "40-49": 12, "50-59": None}


def test_no_overlap_without_visibility_an_agreement_or_a_known_breakdown(
    alliance: Agreement, host: Partner, partner: Partner, outsider: Partner
) -> None:
    shared_people(host, partner, OVERLAP_MIN_CELL)

    with pytest.raises(ApplicationError) as not_shared:
        services.overlap_counts(asker=partner, other=host, breakdown="", actor=SYSTEM)
    with pytest.raises(ApplicationError) as no_agreement:
        _ask(host, outsider)
    with pytest.raises(ApplicationError) as bad:
        _ask(host, partner, "email")

    # The host agreed to no flow towards the brand for overlap: no agreement, whatever the
    # visibility.
    assert not_shared.value.code == FederationErrorCode.NO_AGREEMENT
    assert no_agreement.value.code == FederationErrorCode.NO_AGREEMENT
    assert bad.value.code == ErrorCode.VALIDATION_FAILED
    services.overlap_visibility_set(owner=partner, viewer=host, level="nothing", actor=SYSTEM)
    with pytest.raises(ApplicationError) as hidden:
        _ask(host, partner)
    assert hidden.value.code == ErrorCode.PERMISSION_DENIED
    assert not OverlapQuery.objects.exists()  # only answered questions are logged


def test_a_member_counts_once_whichever_way_it_matches(
    alliance: Agreement, host: Partner, partner: Partner
) -> None:
    shared_people(host, partner, OVERLAP_MIN_CELL - 2)
    # Same e-mail and same phone: counted once.
    both = overlap_member(host, "H-b", "both@example.jp", phone="090-1111-2222")
    grant_overlap_consent(both, partner)
    grant_overlap_consent(
        overlap_member(partner, "B-b", "both@example.jp", phone="09011112222"), host
    )
    # Same e-mail and phone as an account that never consented, and the same phone as one
    # that did: counted, through the phone.
    twice = overlap_member(host, "H-t", "twice@example.jp", phone="090-3333-4444")
    grant_overlap_consent(twice, partner)
    overlap_member(partner, "B-t1", "twice@example.jp", phone="090-3333-4444")
    grant_overlap_consent(
        overlap_member(partner, "B-t2", "other@example.jp", phone="090-3333-4444"), host
    )
    # Known to the brand by phone alone, without an e-mail: counted.
    by_phone = overlap_member(host, "H-p", "phone@example.jp", phone="090-5555-6666")
    grant_overlap_consent(by_phone, partner)
    grant_overlap_consent(overlap_member(partner, "B-p", "", phone="090-5555-6666"), host)

    result = _ask(host, partner)

    assert result.total == OVERLAP_MIN_CELL + 1


def test_the_age_bands_counted_in_sql_are_those_partners_normalize_gives() -> None:
    from federation.overlap.services import segment_sql
    from partners.normalize import age_band

    sql, params = segment_sql("age_band")
    today = timezone.localdate()
    for year in [None, *range(today.year - 100, today.year + 1)]:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {sql} FROM (SELECT CAST(%s AS integer) AS birth_year) a",  # noqa: S608
                [*params, year],
            )
            (band,) = cursor.fetchone()
        assert band == (age_band(year, today=today) or "unknown"), year


def test_a_suspended_agreement_stops_overlap(
    alliance: Agreement, host: Partner, partner: Partner
) -> None:
    shared_people(host, partner, OVERLAP_MIN_CELL)
    services.agreement_suspend(agreement=alliance, reason="Review", actor=SYSTEM)

    with pytest.raises(ApplicationError) as refused:
        _ask(host, partner)

    assert refused.value.code == FederationErrorCode.NO_AGREEMENT


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
    from federation.overlap.services import suppress_small_cells

    assert suppress_small_cells(counts, 10) == expected


def test_a_change_of_visibility_is_in_the_audit_log(
    alliance: Agreement, host: Partner, partner: Partner
) -> None:
    services.overlap_visibility_set(owner=partner, viewer=host, level="nothing", actor=SYSTEM)

    logged = AuditEvent.objects.filter(action="overlap.visibility_set").order_by("id")
    assert [(e.partner, e.detail["level"]) for e in logged] == [
        (partner, "counts"),
        (partner, "nothing"),
    ]


@pytest.mark.parametrize(
    ("counts", "noise", "expected"),
    [
        # Withheld by the noisy numbers: an exact 10 that reads 9 is withheld ...
        ({"a": 10, "b": 60}, [0, -1, 0], (70, {"a": None, "b": None})),
        # ... and an exact 9 that reads 10 is shown: no exact threshold to probe.
        ({"a": 9, "b": 60}, [0, 1, 0], (69, {"a": 10, "b": 60})),
        ({"a": 12}, [-3], (None, {"a": None})),
        ({"a": 50, "b": 60}, [2, -1, 1], (112, {"a": 49, "b": 61})),
    ],
)
def test_what_is_withheld_is_decided_on_the_noisy_numbers(
    counts: dict[str, int], noise: list[int], expected: Any
) -> None:
    from federation.overlap.services import suppress_small_cells

    draws = iter(noise)
    assert suppress_small_cells(counts, 10, noise=lambda: next(draws)) == expected


def test_the_noise_is_centred_with_the_spread_the_docs_promise(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from federation.overlap import services as overlap

    settings.SANPO_OVERLAP_NOISE_SCALE = 4
    monkeypatch.setattr(overlap, "_random", random.Random(20261123))

    draws = [overlap._noise() for _ in range(20_000)]

    assert abs(statistics.fmean(draws)) < 0.3
    assert 5.0 < statistics.pstdev(draws) < 6.2  # about 5.6 at scale 4
    assert sum(1 for d in draws if d > 0) == pytest.approx(sum(1 for d in draws if d < 0), rel=0.05)


def test_asking_again_draws_fresh_noise_within_a_budget(
    alliance: Agreement, host: Partner, partner: Partner, settings: Any
) -> None:
    """A company that changes its base between questions, or asks the same one again, gets
    fresh noise each time, and only so many answers to average."""
    settings.SANPO_OVERLAP_NOISE_SCALE = 4
    settings.SANPO_OVERLAP_QUESTIONS_PER_MONTH = 6
    shared_people(host, partner, 60)

    totals = [_ask(host, partner).total for _ in range(6)]
    with pytest.raises(ApplicationError) as refused:
        _ask(host, partner)

    assert all(total is not None and abs(total - 60) < 60 for total in totals)
    assert len(set(totals)) > 1  # all six equal: below one chance in 10**5
    assert refused.value.code == ErrorCode.RATE_LIMITED
    assert "Retry-After" in refused.value.headers
    assert OverlapQuery.objects.count() == 6  # the refused one is not an answer
    # A month later the oldest question no longer counts.
    oldest = OverlapQuery.objects.order_by("asked_at").first()
    assert oldest is not None
    OverlapQuery.objects.filter(pk=oldest.pk).update(asked_at=timezone.now() - timedelta(days=31))
    assert _ask(host, partner).total is not None


def test_each_pair_of_companies_has_its_own_budget(
    alliance: Agreement, host: Partner, partner: Partner, settings: Any
) -> None:
    settings.SANPO_OVERLAP_QUESTIONS_PER_MONTH = 1
    shared_people(host, partner, OVERLAP_MIN_CELL)
    _ask(host, partner)
    OverlapQuery.objects.update(other=host, asker=partner)  # as if asked the other way

    assert _ask(host, partner).total == OVERLAP_MIN_CELL


def test_an_agreement_may_raise_the_floor_but_never_lower_it(settings: Any) -> None:
    settings.SANPO_OVERLAP_MIN_CELL_FLOOR = 50

    def clean(**overlap: Any) -> dict[str, Any]:
        flow = {
            "provider": "brand-co",
            "recipient": "host-co",
            "purpose": "overlap_matching",
            "fields": ["kind"],
        }
        document = {"data_flows": [flow], "overlap": overlap}
        return terms_clean(document, parties=["host-co", "brand-co"], purposes=["overlap_matching"])

    with pytest.raises(TermsError) as lower:
        clean(min_cell=49)

    assert "floor of 50" in lower.value.errors["overlap.min_cell"][0]
    assert clean()["overlap"] == {"min_cell": 50}
    assert clean(min_cell=80)["overlap"] == {"min_cell": 80}


def test_terms_signed_under_a_lower_floor_answer_at_the_raised_floor(
    alliance: Agreement, host: Partner, partner: Partner, settings: Any
) -> None:
    shared_people(host, partner, OVERLAP_MIN_CELL + 5)
    assert _ask(host, partner).total == OVERLAP_MIN_CELL + 5

    settings.SANPO_OVERLAP_MIN_CELL_FLOOR = 50
    result = _ask(host, partner)

    assert (result.total, result.min_cell) == (None, 50)
    assert [q.min_cell for q in OverlapQuery.objects.order_by("asked_at")] == [10, 50]
