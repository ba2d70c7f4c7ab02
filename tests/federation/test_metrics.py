"""Metrics: the activity rollup rebuilt from the ledger, the intervals' coverage, and the lift
of a reactivation bonus against its holdout: a planted effect is recovered within its
interval, no effect gives an interval around zero, small groups say nothing, and a company
reads only its own lift."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from federation.coins.services import coins_earn_for_action, coins_earn_for_purchase
from federation.coins.services.programs import coins_redeem_at
from federation.holdouts.models import Holdout
from federation.holdouts.selectors import is_held_out
from federation.metrics import stats
from federation.metrics.models import ActivityDay, LiftResult, RollupState
from federation.metrics.services import (
    metrics_reactivation_lift,
    metrics_refresh_days,
    metrics_refresh_recent,
)
from partners.actors import Actor
from partners.models import Partner, Person
from tests.conftest import Key, client_for
from tests.factories import coin_terms, grant_consent, make_agreement, make_member, make_notice

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
URL = "/api/v1/metrics/lift/reactivation"


# --- The rollup --------------------------------------------------------------------------------


def test_the_rollup_counts_what_members_did_per_company_and_day(
    host: Partner, partner: Partner
) -> None:
    make_notice(purposes=["coin_exchange"], recipients=[partner], data_items=["name"])
    actions = [{"party": host.slug, "type": "event_attended", "coins": 30}]
    make_agreement(
        host, partner, terms=coin_terms(host, partner, actions=actions, coins_per_100_yen="1")
    )
    member = make_member(host, "K-1")
    grant_consent(member, partner, "coin_exchange")
    coins_earn_for_purchase(
        company=host, member=member, amount_yen=Decimal(2500), order_id="O-1", actor=SYSTEM
    )
    coins_earn_for_action(
        company=host, member=member, action_type="event_attended", content_id="", actor=SYSTEM
    )
    coins_redeem_at(company=host, member=member, coins=10, reference="R-1", actor=SYSTEM)
    today = timezone.localdate()
    metrics_refresh_days(today, today)
    metrics_refresh_days(today, today)  # again: the same rows, not twice
    row = ActivityDay.objects.get()
    member.refresh_from_db()
    assert (row.company, row.person_id, row.day) == (host, member.person_id, today)
    assert (row.purchases, row.yen, row.actions) == (1, Decimal(2500), 1)
    assert (row.coins_earned, row.coins_redeemed) == (25 + 30, 10)
    # Nothing was posted before today, and today is not over: complete through yesterday.
    assert RollupState.objects.get().through == today - timedelta(days=1)
    assert metrics_refresh_recent() > 0


# --- The intervals -----------------------------------------------------------------------------


def test_the_rate_interval_covers_a_null_difference_about_95_percent_of_the_time() -> None:
    covered = 0
    for seed in range(400):
        draw = random.Random(seed)
        x1 = sum(draw.random() < 0.2 for _ in range(300))
        x0 = sum(draw.random() < 0.2 for _ in range(100))
        interval = stats.rate_difference(x1, 300, x0, 100)
        covered += interval.low <= 0 <= interval.high
    assert 0.92 <= covered / 400 <= 0.98


def test_the_welch_interval_covers_a_null_difference_about_95_percent_of_the_time() -> None:
    covered = 0
    for seed in range(400):
        draw = random.Random(seed)
        a = [draw.expovariate(1 / 1500) for _ in range(200)]
        b = [draw.expovariate(1 / 1500) for _ in range(60)]
        interval = stats.mean_difference(_sample(a), _sample(b))
        covered += interval.low <= 0 <= interval.high
    assert 0.92 <= covered / 400 <= 0.98


def _sample(values: list[float]) -> stats.Sample:
    return stats.Sample(len(values), sum(values), sum(v * v for v in values))


def test_the_t_quantile_matches_the_tables() -> None:
    assert stats.t_quantile(10) == pytest.approx(2.2281, abs=1e-4)
    assert stats.t_quantile(30) == pytest.approx(2.0423, abs=1e-4)
    assert stats.t_quantile(float("inf")) == pytest.approx(1.95996, abs=1e-5)


# --- The lift ----------------------------------------------------------------------------------

PERIOD = (date(2026, 9, 1), date(2026, 9, 30))


def _alliance(
    host: Partner, people: int, treated: float, held: float, seed: int, key: str = ""
) -> Holdout:
    """``people`` members of ``host`` last active in March (dormant when September begins),
    of whom the treated come back in September with probability ``treated`` and the held-out
    with ``held``; buyers spend 1,000 to 3,000 yen. The holdout is the reactivation bonus's, or
    the action rule's named by ``key``."""
    holdout = Holdout.objects.create(
        kind=Holdout.Kind.ACTION_RULE if key else Holdout.Kind.REACTIVATION,
        key=key or f"reactivation:{host.slug}",
        company=host,
        percent=Decimal(20),
        seed=f"planted-{seed}",
    )
    draw = random.Random(seed)
    # Ids from the seed too: who is held out follows from them, so the run is the same each
    # time (a 95% interval misses the truth in one run of twenty: never leave that to chance).
    persons = Person.objects.bulk_create(
        Person(id=uuid.UUID(int=draw.getrandbits(128), version=4)) for _ in range(people)
    )
    rows = [
        ActivityDay(company=host, person=p, day=date(2026, 3, 10), purchases=1) for p in persons
    ]
    for person in persons:
        chance = held if is_held_out(holdout, person.pk) else treated
        if draw.random() < chance:
            bought = draw.random() < 0.5
            rows.append(
                ActivityDay(
                    company=host,
                    person=person,
                    day=date(2026, 9, draw.randint(1, 30)),
                    purchases=int(bought),
                    yen=Decimal(draw.randint(1000, 3000)) if bought else Decimal(0),
                    coins_earned=20,
                )
            )
    ActivityDay.objects.bulk_create(rows)
    RollupState.objects.create(name="activity", through=date(2026, 10, 31))
    return holdout


def _lift(host: Partner) -> dict[str, Any]:
    start, end = PERIOD
    return metrics_reactivation_lift(host, start=start, end=end, dormant_days=90)


def test_a_planted_effect_is_recovered_within_its_interval(host: Partner) -> None:
    _alliance(host, 2000, treated=0.30, held=0.10, seed=7)
    figures = _lift(host)
    groups = figures["groups"]
    assert groups["treated"]["members"] + groups["holdout"]["members"] == 2000
    assert 0.15 < groups["holdout"]["members"] / 2000 < 0.25
    rate = figures["lift"]["reactivation_rate"]
    assert rate["low"] <= 0.20 <= rate["high"]
    assert rate["low"] > 0
    assert figures["lift"]["yen_per_member"]["low"] > 0
    assert figures["final"] is True
    assert LiftResult.objects.count() == 1
    assert _lift(host) == figures  # kept: read again, the same figures


def test_no_effect_gives_an_interval_around_zero(host: Partner) -> None:
    _alliance(host, 1500, treated=0.15, held=0.15, seed=11)
    rate = _lift(host)["lift"]["reactivation_rate"]
    assert rate["low"] < 0 < rate["high"]


def test_small_groups_say_nothing(host: Partner) -> None:
    _alliance(host, 100, treated=0.5, held=0.1, seed=3)
    figures = _lift(host)
    assert figures["too_small"] is True
    assert "lift" not in figures


# --- Through the API ---------------------------------------------------------------------------


def test_a_company_reads_its_own_lift_only(host_key: Key, partner_key: Key) -> None:
    _alliance(host_key.partner, 400, treated=0.4, held=0.1, seed=5)
    query = "?from=2026-09-01&to=2026-09-30&dormant_days=90"
    mine = client_for(host_key).get(URL + query)
    assert mine.status_code == 200, mine.content
    assert mine.json()["programme"] == "reactivation:host-co"
    assert mine.json()["groups"]["treated"]["members"] > 0
    theirs = client_for(partner_key).get(URL + query)
    assert theirs.status_code == 422
    assert theirs.json()["error"]["code"] == "no_holdout"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?from=2026-13-01", "from"),
        ("?to=yesterday", "to"),
        ("?from=2026-09-30&to=2026-09-01", "from"),
        ("?from=2024-01-01&to=2026-09-01", "from"),
        ("?dormant_days=5", "dormant_days"),
        ("?to=0001-01-01", "to"),  # its default start, 29 days before, is no date at all
        ("?to=9999-12-31", "to"),
        ("?dormant_days=\uff19\uff10", "dormant_days"),  # full-width digits
    ],
)
def test_bad_periods_are_refused(host_key: Key, query: str, field: str) -> None:
    answer = client_for(host_key).get(URL + query)
    assert answer.status_code == 400, answer.content
    assert answer.json()["error"]["code"] == "validation_failed"
    assert field in answer.json()["error"]["fields"]


def test_an_action_rules_lift_is_measured_against_its_own_holdout(
    host_key: Key, partner_key: Key
) -> None:
    _alliance(host_key.partner, 2000, treated=0.30, held=0.10, seed=7, key="action:host-co:quiz")
    query = "from=2026-09-01&to=2026-09-30&dormant_days=90"
    mine = client_for(host_key).get("/api/v1/metrics/lift/actions?action_type=quiz&" + query)
    assert mine.status_code == 200, mine.content
    figures = mine.json()
    assert figures["programme"] == "action:host-co:quiz"
    rate = figures["lift"]["reactivation_rate"]
    assert rate["low"] <= 0.20 <= rate["high"]
    assert rate["low"] > 0
    # The reactivation bonus keeps no holdout here, another rule none, the brand no such rule.
    for key, path in [
        (host_key, "/api/v1/metrics/lift/reactivation?"),
        (host_key, "/api/v1/metrics/lift/actions?action_type=video_watched&"),
        (partner_key, "/api/v1/metrics/lift/actions?action_type=quiz&"),
    ]:
        answer = client_for(key).get(path + query)
        assert answer.status_code == 422, (path, answer.content)
        assert answer.json()["error"]["code"] == "no_holdout"


@pytest.mark.parametrize(
    "query", ["", "?action_type=", "?action_type=" + "x" * 41, "?action_type=Video"]
)
def test_an_action_lift_names_its_rule(host_key: Key, query: str) -> None:
    answer = client_for(host_key).get("/api/v1/metrics/lift/actions" + query)
    assert answer.status_code == 400, answer.content
    assert answer.json()["error"]["code"] == "validation_failed"
    assert "action_type" in answer.json()["error"]["fields"]
