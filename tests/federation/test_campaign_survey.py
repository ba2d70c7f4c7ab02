"""Campaigns after the draw, through their services: the shipment list with a provision
record per member, answers once each earning coins, results in aggregates with small cells
withheld and free text scrubbed, and the daily close of ended surveys."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import ProvisionRecord
from consent.services import consent_withdraw
from federation.campaigns.models import Campaign, SurveyAnswer
from federation.campaigns.services import (
    campaign_answer,
    campaign_results,
    campaign_shipment_export,
    scrub,
)
from federation.coins.models import CoinTransaction
from federation.models import Agreement
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import AuditEvent, Partner
from tests.federation.test_campaigns import (
    ANSWERS,
    SHIP,
    approved,
    make_sampling,
    shopper,
    shoppers,
    surveying,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("small_cell_floor", "exact_overlap_counts"),
]
SYSTEM = Actor.system()


@pytest.fixture
def sampling(host: Partner, partner: Partner) -> Agreement:
    return make_sampling(host, partner)


def test_the_shipment_list_holds_only_shipping_fields_with_a_provision_each(
    sampling: Agreement, host: Partner, partner: Partner
) -> None:
    members = shoppers(host, 10, email="taro@example.jp")
    campaign = approved(host, partner, quantity=10)
    consent_withdraw(
        member=members[3],
        purpose_code="sampling_shipment",
        recipient=partner,
        channel="host_portal",
        occurred_at=timezone.now(),
        actor=SYSTEM,
    )

    rows = campaign_shipment_export(campaign=campaign, actor=SYSTEM)

    assert len(rows) == 9  # the member who withdrew before the export is left out
    assert set(rows[0]) == {"member", *SHIP}
    assert rows[0]["name"] == "山田 太郎"
    assert rows[0]["postal_code"] == "150-0001"
    assert "taro@example.jp" not in str(rows)
    provisions = ProvisionRecord.objects.filter(recipient=partner, purpose_id="sampling_shipment")
    assert provisions.count() == 9
    assert sorted(provisions.first().data_items) == sorted(SHIP)  # type: ignore[union-attr]
    assert not provisions.filter(member=members[3]).exists()
    event = AuditEvent.objects.get(action="campaigns.shipment_exported")
    assert event.detail["members"] == 9
    # Exported once: a second export lists nobody again.
    assert campaign_shipment_export(campaign=campaign, actor=SYSTEM) == []


def test_answers_earn_coins_once_and_only_from_members_drawn_who_consent(
    sampling: Agreement, host: Partner, partner: Partner
) -> None:
    members = shoppers(host, 10)
    campaign = surveying(host, partner, quantity=10)
    outsider = shopper(host, "H-late")  # joined after the draw

    answer = campaign_answer(campaign=campaign, member=members[0], answers=ANSWERS, actor=SYSTEM)

    assert answer.coins == 50
    earned = CoinTransaction.objects.get(pk=str(answer.coin_transaction_id))
    assert earned.kind == CoinTransaction.Kind.EARN_ACTION
    assert earned.partner == partner
    refusals = [
        (members[0], ANSWERS, "already_answered"),
        (outsider, ANSWERS, "not_in_campaign"),
        (members[1], {**ANSWERS, "1": 6}, "validation_failed"),
        (members[1], {"1": 4}, "validation_failed"),
        (members[1], {**ANSWERS, "3": [1, 1]}, "validation_failed"),
    ]
    for member, answers, code in refusals:
        with pytest.raises(ApplicationError) as refused:
            campaign_answer(campaign=campaign, member=member, answers=answers, actor=SYSTEM)
        assert refused.value.code == code
    consent_withdraw(
        member=members[2],
        purpose_code="research_survey",
        recipient=partner,
        channel="host_portal",
        occurred_at=timezone.now(),
        actor=SYSTEM,
    )
    with pytest.raises(ApplicationError) as refused:
        campaign_answer(campaign=campaign, member=members[2], answers=ANSWERS, actor=SYSTEM)
    assert refused.value.code == "consent_required"
    assert SurveyAnswer.objects.count() == 1
    assert CoinTransaction.objects.filter(kind=CoinTransaction.Kind.EARN_ACTION).count() == 1


def test_results_are_aggregates_with_small_cells_withheld_and_text_scrubbed(
    sampling: Agreement, host: Partner, partner: Partner
) -> None:
    members = shoppers(host, 12)
    campaign = surveying(host, partner)
    for n, member in enumerate(members):
        text = "連絡は taro@example.jp か 090-1111-2222 へ。山田 太郎" if n == 0 else "良い"
        rating = 5 if n < 11 else 1
        answers = {**ANSWERS, "1": rating, "4": text}
        campaign_answer(campaign=campaign, member=member, answers=answers, actor=SYSTEM)

    results = campaign_results(campaign=campaign, actor=SYSTEM)

    assert results.respondents == 12
    assert results.min_cell == 10
    ratings = results.questions[0]
    assert ratings.answered == 12
    # Eleven fives shown; the single one withheld, like the empty cells.
    assert ratings.cells == {"1": None, "2": None, "3": None, "4": None, "5": 11}
    texts = results.questions[3].texts
    assert texts is not None
    assert len(texts) == 12
    joined = " ".join(texts)
    for secret in ("taro@example.jp", "090-1111-2222", "山田", "太郎"):
        assert secret not in joined


def test_results_withhold_everything_below_the_minimum_cell(
    sampling: Agreement, host: Partner, partner: Partner
) -> None:
    members = shoppers(host, 10)
    campaign = surveying(host, partner, quantity=10)
    for member in members[:9]:
        campaign_answer(campaign=campaign, member=member, answers=ANSWERS, actor=SYSTEM)

    results = campaign_results(campaign=campaign, actor=SYSTEM)

    assert results.respondents is None
    assert all(q.answered is None for q in results.questions)
    assert results.questions[3].texts is None
    # A multiple choice counts each choice against those who answered, not against the sum.
    assert results.questions[2].answered is None
    assert all(value is None for q in results.questions for value in q.cells.values())


def test_scrub_removes_contact_details_postal_codes_and_names() -> None:
    text = "山田です。〒150-0001 渋谷、電話 03-1234-5678、mail: a.b+c@mail.example.co.jp"

    scrubbed = scrub(text, ["山田"])

    assert scrubbed == "[…]です。[…] 渋谷、電話 […]、mail: […]"


def test_the_daily_task_closes_surveys_past_their_end_date(
    sampling: Agreement, host: Partner, partner: Partner
) -> None:
    from config.celery import app
    from federation.tasks import close_ended_campaigns

    shoppers(host, 10)
    campaign = surveying(host, partner, quantity=10)
    yesterday = timezone.localdate() - timedelta(days=1)
    Campaign.objects.filter(pk=campaign.pk).update(starts_on=yesterday, ends_on=yesterday)
    running = surveying(host, partner, quantity=10, category="drinks")

    assert close_ended_campaigns() == 1
    assert close_ended_campaigns() == 0
    campaign.refresh_from_db()
    running.refresh_from_db()
    assert campaign.state == Campaign.State.CLOSED
    assert running.state == Campaign.State.SURVEYING
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "federation.tasks.close_ended_campaigns" in scheduled


def test_the_tallies_in_sql_and_in_python_agree(
    sampling: Agreement, host: Partner, partner: Partner, on_postgres: bool
) -> None:
    if not on_postgres:
        pytest.skip("the SQL form is PostgreSQL's")
    from federation.campaigns.services import exact_tallies

    members = shoppers(host, 12)
    campaign = surveying(host, partner)
    for n, member in enumerate(members[:11]):
        answers = {"1": 1 + n % 5, "2": n % 2, "3": [0] if n % 3 else [0, 1], "4": f"良い {n}"}
        campaign_answer(campaign=campaign, member=member, answers=answers, actor=SYSTEM)

    in_sql = exact_tallies(campaign, in_sql=True)
    in_python = exact_tallies(campaign, in_sql=False)

    assert in_sql[:2] == in_python[:2]
    assert sorted(in_sql[2][4]) == sorted(in_python[2][4])
    assert in_sql[1][1] == {"1": 3, "2": 2, "3": 2, "4": 2, "5": 2}
    assert in_sql[1][3] == {"0": 11, "1": 4}


def test_results_per_segment_cell_withhold_small_cells_and_never_show_text(
    sampling: Agreement, host: Partner, partner: Partner
) -> None:
    thirties = shoppers(host, 12)
    fifties = shoppers(host, 3, start=100, birth_date="1970-04-01")
    campaign = surveying(host, partner, quantity=15, segment={"prefectures": ["13"]})
    for member in thirties + fifties:
        campaign_answer(campaign=campaign, member=member, answers=ANSWERS, actor=SYSTEM)

    results = campaign_results(campaign=campaign, actor=SYSTEM, breakdown="age_band")

    cells = {cell.segment: cell for cell in results.segments}
    assert set(cells) == {"under-20", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+"}
    assert cells["30-39"].respondents == 12
    assert cells["30-39"].questions[0].cells["4"] == 12
    assert cells["30-39"].questions[3].texts is None  # never free text per cell
    assert cells["50-59"].respondents is None  # three: withheld whole
    assert cells["50-59"].questions == []
    assert results.questions[3].texts is not None  # the whole shows it (15 wrote)


def test_results_take_one_known_breakdown(
    sampling: Agreement, host: Partner, partner: Partner
) -> None:
    shoppers(host, 10)
    campaign = surveying(host, partner, quantity=10)

    with pytest.raises(ApplicationError) as refused:
        campaign_results(campaign=campaign, actor=SYSTEM, breakdown="prefecture")

    assert refused.value.code == "disclosure_refused"
