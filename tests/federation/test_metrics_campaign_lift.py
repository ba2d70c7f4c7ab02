"""A sampling campaign's lift: the members it drew against the eligible members its holdout
kept out (recorded at the draw), and what each group did with the campaign's partner, through
the service and the API (``GET /api/v1/metrics/lift/campaigns/<id>``)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from federation.campaigns.models import Campaign
from federation.metrics.models import ActivityDay, LiftResult, RollupState
from federation.metrics.services import metrics_campaign_lift
from partners.models import MemberAccount, Partner, Person
from tests.conftest import Key, client_for
from tests.federation.test_campaigns import approved, draft, sampling, shoppers  # noqa: F401

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("small_cell_floor", "exact_overlap_counts", "sampling"),
]
PERIOD = (date(2026, 9, 1), date(2026, 9, 30))


def _url(campaign: Campaign | str, query: str = "") -> str:
    pk = campaign.pk if isinstance(campaign, Campaign) else campaign
    return f"/api/v1/metrics/lift/campaigns/{pk}{query}"


def _campaign(host: Partner, partner: Partner, settings: Any, members: int = 120) -> Campaign:
    """A campaign drawing from ``members`` eligible host members, half held out; each member a
    person of its own (the shoppers share a phone), so their activity with the brand can be
    rolled up. (Each member written links persons in temporary tables, which hold locks until
    the test's transaction ends: a few hundred members would exhaust PostgreSQL's lock table.)"""
    settings.SANPO_HOLDOUT_PERCENT = 50
    for member in shoppers(host, members):
        member.person = Person.objects.create()
        member.save(update_fields=["person"])
    return approved(host, partner, quantity=members)


def _plant(campaign: Campaign, treated: float, held: float) -> None:
    """Exactly ``treated`` of the drawn and ``held`` of the held-out members buy from the brand
    in September (2,000 yen, 20 coins each): in a fixed pattern, whoever is in which group, so
    the observed difference is the planted one every run."""

    def persons(ids: Any) -> list[Any]:
        found = MemberAccount.objects.filter(pk__in=ids).order_by("member_number")
        return list(found.values_list("person_id", flat=True))

    drawn = persons(campaign.members.values("member_id"))
    kept_out = persons(campaign.held_out_members.values("member_id"))
    rows = []
    for group, share in ((drawn, treated), (kept_out, held)):
        buyers = round(len(group) * share)
        for index, person in enumerate(group):
            bought = index * buyers // len(group) != (index + 1) * buyers // len(group)
            if bought:
                rows.append(
                    ActivityDay(
                        company=campaign.partner,
                        person_id=person,
                        day=date(2026, 9, 1 + index % 30),
                        purchases=1,
                        yen=Decimal(2000),
                        coins_earned=20,
                    )
                )
    ActivityDay.objects.bulk_create(rows)
    RollupState.objects.create(name="activity", through=date(2026, 10, 31))


def test_the_drawn_members_are_measured_against_the_held_out_ones(
    host: Partner, partner: Partner, settings: Any
) -> None:
    campaign = _campaign(host, partner, settings)
    _plant(campaign, treated=0.6, held=0.1)
    figures = metrics_campaign_lift(campaign, start=PERIOD[0], end=PERIOD[1])
    treated, held = figures["groups"]["treated"], figures["groups"]["holdout"]
    assert treated["members"] == campaign.members.count() == campaign.selected
    assert held["members"] == campaign.held_out_members.count() > 30
    assert treated["members"] > 30
    assert treated["members"] + held["members"] == 120
    assert treated["purchased"] == round(treated["members"] * 0.6)
    assert held["purchased"] == round(held["members"] * 0.1)
    assert treated["active"] == treated["purchased"]
    rate = figures["lift"]["purchase_rate"]
    assert rate["low"] <= 0.5 <= rate["high"]
    assert rate["low"] > 0
    assert figures["lift"]["yen_per_member"]["low"] > 0
    assert figures["programme"] == f"campaign:{campaign.pk}"
    assert figures["final"] is True
    assert LiftResult.objects.get().programme == f"campaign:{campaign.pk}"
    assert metrics_campaign_lift(campaign, start=PERIOD[0], end=PERIOD[1]) == figures  # kept


def test_with_no_effect_the_interval_covers_zero(
    host: Partner, partner: Partner, settings: Any
) -> None:
    campaign = _campaign(host, partner, settings)
    _plant(campaign, treated=0.2, held=0.2)
    rate = metrics_campaign_lift(campaign, start=PERIOD[0], end=PERIOD[1])["lift"]["purchase_rate"]
    assert rate["low"] < 0 < rate["high"]


def test_the_partner_reads_its_campaigns_lift_and_no_one_else(
    host: Partner, partner: Partner, settings: Any, host_key: Key, partner_key: Key
) -> None:
    campaign = _campaign(host, partner, settings, members=40)
    _plant(campaign, treated=0.5, held=0.1)
    query = "?from=2026-09-01&to=2026-09-30"
    mine = client_for(partner_key).get(_url(campaign, query))
    assert mine.status_code == 200, mine.content
    body = mine.json()
    assert body["campaign"] == str(campaign.pk)
    assert body["too_small"] is True  # 40 members, half held out: too few to say anything
    assert "lift" not in body
    assert body["groups"]["holdout"]["members"] > 0
    # The host whose members they are, like anyone else, finds no such campaign here.
    for key in (host_key,):
        other = client_for(key).get(_url(campaign, query))
        assert other.status_code == 404, other.content
        assert other.json()["error"]["code"] == "not_found"
    assert client_for(partner_key).get(_url("not-a-uuid")).status_code == 404


def test_the_period_runs_from_the_draw_by_default(
    host: Partner, partner: Partner, settings: Any, partner_key: Key
) -> None:
    campaign = _campaign(host, partner, settings, members=20)
    body = client_for(partner_key).get(_url(campaign)).json()
    today = timezone.localdate()
    assert body["start"] == today.isoformat()  # drawn today
    assert body["end"] == today.isoformat()
    assert body["final"] is False


def test_a_campaign_that_has_not_drawn_has_no_holdout_yet(
    host: Partner, partner: Partner, partner_key: Key
) -> None:
    campaign = draft(host, partner)
    answer = client_for(partner_key).get(_url(campaign))
    assert answer.status_code == 422, answer.content
    assert answer.json()["error"]["code"] == "no_holdout"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?from=2026-13-01", "from"),
        ("?to=yesterday", "to"),
        ("?from=2026-09-30&to=2026-09-01", "from"),
        ("?from=2024-01-01&to=2026-09-01", "from"),
        ("?to=0001-01-01", "to"),
    ],
)
def test_bad_periods_are_refused(
    host: Partner, partner: Partner, settings: Any, partner_key: Key, query: str, field: str
) -> None:
    campaign = _campaign(host, partner, settings, members=12)
    answer = client_for(partner_key).get(_url(campaign, query))
    assert answer.status_code == 400, answer.content
    assert answer.json()["error"]["code"] == "validation_failed"
    assert field in answer.json()["error"]["fields"]


def test_yesterday_is_the_end_of_an_older_draw(
    host: Partner, partner: Partner, settings: Any, partner_key: Key
) -> None:
    campaign = _campaign(host, partner, settings, members=12)
    campaign.members.update(selected_at=timezone.now() - timedelta(days=10))
    body = client_for(partner_key).get(_url(campaign)).json()
    today = timezone.localdate()
    assert body["start"] == (today - timedelta(days=10)).isoformat()
    assert body["end"] == (today - timedelta(days=1)).isoformat()


def test_the_dashboard_shows_a_companys_campaign_lift(
    host: Partner, partner: Partner, settings: Any, alliance_manager: User
) -> None:
    campaign = _campaign(host, partner, settings)
    _plant(campaign, treated=0.6, held=0.1)
    manager = Client()
    manager.force_login(alliance_manager)
    query = {"company": partner.slug, "from": "2026-09-01", "to": "2026-09-30"}
    page = manager.get("/admin/federation/dailyfigure/dashboard/", query)
    assert page.status_code == 200
    (shown,) = page.context["board"].campaigns
    assert shown.name == campaign.name_en
    assert shown.figures["groups"]["treated"]["members"] == campaign.selected
    assert shown.purchase is not None
    content = page.content.decode()
    assert "Measured lift of sampling campaigns" in content
    assert content.count("lift-interval") == 1  # the partner has no reactivation bonus
    # The host drew nothing of its own.
    host_page = manager.get("/admin/federation/dailyfigure/dashboard/", {"company": host.slug})
    assert host_page.context["board"].campaigns == []
    assert "This company has drawn no campaign members yet." in host_page.content.decode()
