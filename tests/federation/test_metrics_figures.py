"""The daily figures: rebuilt from the ledger and the rollup per company and day, read by
day, week or month (stocks keep their last day, flows add up), a company's own through the
API with the alliance's totals, small counts of people withheld, as JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from federation.coins.models import CoinActivity
from federation.coins.services import (
    coins_earn_for_action,
    coins_earn_for_purchase,
    coins_redeem_at,
)
from federation.metrics.figures import alliance_figures, company_figures, period_of
from federation.metrics.models import ActivityDay, DailyFigure
from federation.metrics.services import metrics_refresh_days
from partners.actors import Actor
from partners.models import Partner, Person
from tests.conftest import Key, client_for
from tests.factories import coin_terms, grant_consent, make_agreement, make_member, make_notice

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
URL = "/api/v1/metrics/figures"


def _figure(metric: str, company: Partner, counterparty: Partner | None = None) -> int | None:
    row = DailyFigure.objects.filter(metric=metric, company=company, counterparty=counterparty)
    return row.values_list("value", flat=True).first()


@pytest.fixture
def today_figures(host: Partner, partner: Partner) -> date:
    """Two host members buy and act today; one more was last seen 200 days ago."""
    make_notice(purposes=["coin_exchange"], recipients=[partner], data_items=["name"])
    actions = [{"party": host.slug, "type": "video_watched", "coins": 5}]
    make_agreement(
        host, partner, terms=coin_terms(host, partner, actions=actions, coins_per_100_yen="1")
    )
    for number in ("K-1", "K-2"):
        member = make_member(host, number)
        grant_consent(member, partner, "coin_exchange")
        coins_earn_for_purchase(
            company=host, member=member, amount_yen=Decimal(1000), order_id=number, actor=SYSTEM
        )
        coins_earn_for_action(
            company=host, member=member, action_type="video_watched", content_id="", actor=SYSTEM
        )
        coins_redeem_at(company=host, member=member, coins=3, reference=number, actor=SYSTEM)
    today = timezone.localdate()
    ActivityDay.objects.create(company=host, person=Person.objects.create(), day=date(2026, 5, 1))
    metrics_refresh_days(today, today)
    return today


def test_figures_are_rebuilt_per_company_and_day(host: Partner, today_figures: date) -> None:
    assert _figure("members_active", host) == 2
    assert _figure("members_dormant", host) == 1  # seen in May, not in the last 90 days
    assert _figure("coins_issued", host) == 2 * (10 + 5)
    assert _figure("coins_spent", host, host) == 2 * 3  # the host's own coins, at the host
    before = DailyFigure.objects.count()
    metrics_refresh_days(today_figures, today_figures)
    assert DailyFigure.objects.count() == before  # rebuilt, not added


def test_weeks_keep_a_stocks_last_day_and_add_up_flows(host: Partner) -> None:
    monday = date(2026, 11, 2)
    for offset, active, issued in ((0, 5, 10), (3, 7, 20), (6, 6, 30)):
        day = monday + timedelta(days=offset)
        DailyFigure.objects.create(day=day, metric="members_active", company=host, value=active)
        DailyFigure.objects.create(day=day, metric="coins_issued", company=host, value=issued)
    weekly = {
        s.metric: s.points for s in company_figures(host, monday, monday + timedelta(6), "week")
    }
    assert weekly == {"coins_issued": [(monday, 60)], "members_active": [(monday, 6)]}
    assert period_of(date(2026, 11, 18), "month") == date(2026, 11, 1)


def test_the_alliance_total_withholds_small_counts_of_people(
    settings: object, host: Partner, partner: Partner, outsider: Partner
) -> None:
    settings.SANPO_OVERLAP_MIN_CELL_FLOOR = 10  # type: ignore[attr-defined]
    day = date(2026, 11, 2)
    DailyFigure.objects.create(day=day, metric="members_active", company=host, value=6)
    DailyFigure.objects.create(day=day, metric="members_active", company=partner, value=3)
    DailyFigure.objects.create(day=day, metric="coins_issued", company=partner, value=3)
    totals = {s.metric: s.points for s in alliance_figures(day, day, "day")}
    assert totals == {"coins_issued": [(day, 3)], "members_active": [(day, None)]}
    DailyFigure.objects.create(day=day, metric="members_active", company=outsider, value=1)
    # 6 + 3 + 1 = 10: shown once it reaches the smallest cell.
    assert alliance_figures(day, day, "day")[1].points == [(day, 10)]


@pytest.mark.usefixtures("today_figures")
def test_a_company_reads_its_own_figures_and_the_alliances(
    host_key: Key, partner_key: Key, settings: object
) -> None:
    settings.SANPO_OVERLAP_MIN_CELL_FLOOR = 10  # type: ignore[attr-defined]
    mine = client_for(host_key).get(URL)
    assert mine.status_code == 200, mine.content
    series = {s["metric"]: s["points"] for s in mine.json()["series"]}
    assert series["members_active"][-1]["value"] == 2
    alliance = {s["metric"]: s["points"] for s in mine.json()["alliance"]}
    assert alliance["members_active"][-1]["value"] is None  # 2 people: withheld
    theirs = client_for(partner_key).get(URL).json()
    assert theirs["company"] == "brand-co"
    assert theirs["series"] == []  # nothing of the host's
    exported = client_for(host_key).get(URL + ".csv?grain=month")
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == ["scope", "metric", "counterparty", "period", "value"]
    assert [
        "host-co",
        "members_active",
        "",
        timezone.localdate().replace(day=1).isoformat(),
        "2",
    ] in rows


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?grain=year", "grain"),
        ("?from=2026-02-30", "from"),
        ("?from=2026-09-30&to=2026-09-01", "from"),
        ("?from=2024-01-01&to=2026-09-01", "from"),
        ("?to=0001-01-01", "to"),  # its default start, 29 days before, is no date at all
        ("?from=9999-12-31&to=9999-12-31", "to"),
    ],
)
@pytest.mark.parametrize("suffix", ["", ".csv"])
def test_bad_questions_are_refused(host_key: Key, query: str, field: str, suffix: str) -> None:
    answer = client_for(host_key).get(URL + suffix + query)
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["error"]["fields"]


def test_a_reactivated_member_who_buys_is_counted_on_the_day_they_came_back(
    host: Partner, partner: Partner
) -> None:
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
    make_agreement(host, partner, terms=terms)
    member = make_member(host, "K-1")
    grant_consent(member, partner, "coin_exchange")
    coins_earn_for_purchase(
        company=host, member=member, amount_yen=Decimal(1000), order_id="O-1", actor=SYSTEM
    )
    member.refresh_from_db()
    CoinActivity.objects.filter(person=member.person).update(
        last_active_at=timezone.now() - timedelta(days=120)
    )
    coins_earn_for_action(
        company=host, member=member, action_type="video_watched", content_id="", actor=SYSTEM
    )
    today = timezone.localdate()
    metrics_refresh_days(today, today)
    assert _figure("reactivated", host) == 1
    assert _figure("reactivated_bought", host) == 1  # the purchase of the same day counts
