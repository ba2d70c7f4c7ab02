"""Sampling & research campaigns through their services, up to the draw: drafted and proposed
only when the segment reaches enough members, reviewed by the host, and a random draw of
consenting members outside a cooldown. The helpers here (an agreement, members, campaigns in
each state) serve the other campaign tests and the permission matrix too."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from consent.models import ProvisionRecord
from consent.services import consent_withdraw
from federation.campaigns.api.images import PIXEL_PNG
from federation.campaigns.models import Campaign, CampaignImage, CampaignMember, SurveyAnswer
from federation.campaigns.registrations import WEBHOOK_EVENTS
from federation.campaigns.services import (
    CampaignInput,
    campaign_approve,
    campaign_create,
    campaign_image_add,
    campaign_propose,
    campaign_reach,
    campaign_reject,
    campaign_shipment_export,
    campaign_survey_open,
)
from federation.holdouts.models import Holdout
from federation.holdouts.selectors import is_held_out
from federation.metrics.models import DailyFigure
from federation.metrics.services import metrics_refresh_days
from federation.models import Agreement, OverlapQuery
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import AuditEvent, MemberAccount, Partner, WebhookDelivery, WebhookEndpoint
from tests.factories import flow, grant_consent, make_agreement, make_member, make_notice

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("small_cell_floor", "exact_overlap_counts"),
]
SYSTEM = Actor.system()
SHIP = ("name", "postal_code", "address", "phone")
QUESTIONS = [
    {"kind": "rating", "text_ja": "満足度は?", "text_en": "How satisfied?"},
    {
        "kind": "single",
        "text_ja": "また買いますか?",
        "text_en": "Buy again?",
        "choices": [{"ja": "はい", "en": "Yes"}, {"ja": "いいえ", "en": "No"}],
    },
    {
        "kind": "multiple",
        "text_ja": "良かった点",
        "text_en": "What was good",
        "choices": [{"ja": "味", "en": "Taste"}, {"ja": "価格", "en": "Price"}],
    },
    {"kind": "text", "text_ja": "ご意見", "text_en": "Comments"},
]


def campaign_terms(
    host: Partner, partner: Partner, program: dict[str, str] | None = None
) -> dict[str, Any]:
    """The host gives the brand members for sampling (the shipping fields) and research, and
    the brand funds coins at 0.5 yen each (or under ``program``)."""
    return {
        "data_flows": [
            flow(host, partner, "sampling_shipment", *SHIP),
            flow(host, partner, "research_survey", "age_band", "kind"),
        ],
        "overlap": {"min_cell": 10},
        "coin": {
            "exchange": False,
            "programs": {partner.slug: program or {"yen_per_coin": "0.5", "rate_to_shared": "0.5"}},
            "actions": [],
        },
    }


@pytest.fixture
def sampling(host: Partner, partner: Partner) -> Agreement:
    return make_sampling(host, partner)


def make_sampling(host: Partner, partner: Partner) -> Agreement:
    """The notice naming both campaign purposes, the agreement, and the brand's webhook."""
    make_notice(
        purposes=["sampling_shipment", "research_survey"],
        recipients=[partner],
        data_items=[*SHIP, "age_band", "kind"],
    )
    WebhookEndpoint.objects.create(
        partner=partner, url="https://hooks.brand.example/sanpo", events=list(WEBHOOK_EVENTS)
    )
    return make_agreement(host, partner, terms=campaign_terms(host, partner))


def shopper(host: Partner, number: str, *, consent: bool = True, **values: Any) -> MemberAccount:
    """A host member in Tokyo, born 1990, who consented to both purposes with the brand."""
    member = make_member(
        host,
        number,
        name="山田 太郎",
        birth_date=values.pop("birth_date", "1990-04-01"),
        prefecture=values.pop("prefecture", "13"),
        postal_code="150-0001",
        address="東京都渋谷区神宮前1-1-1",
        phone="090-1234-5678",
        **values,
    )
    if consent:
        grant_consent(member, _brand(host), "sampling_shipment", "research_survey")
    return member


def _brand(host: Partner) -> Partner:
    return Partner.objects.get(slug="brand-co")


def shoppers(host: Partner, count: int, start: int = 0, **values: Any) -> list[MemberAccount]:
    return [shopper(host, f"H-{start + n:03d}", **values) for n in range(count)]


def values(**changes: Any) -> CampaignInput:
    today = timezone.localdate()
    base: dict[str, Any] = {
        "name_ja": "プロテインバー",
        "name_en": "Protein bar",
        "description_ja": "新しい味です。",
        "description_en": "A new flavour.",
        "category": "snacks",
        "quantity": 12,
        "segment": {"prefectures": ["13"], "age_bands": ["30-39"]},
        "starts_on": today,
        "ends_on": today + timedelta(days=30),
        "selection": "direct",
        "coins_per_answer": 50,
        "questions": QUESTIONS,
    }
    return CampaignInput(**{**base, **changes})


def draft(host: Partner, partner: Partner, **changes: Any) -> Campaign:
    return campaign_create(partner=partner, host=host, values=values(**changes), actor=SYSTEM)


def approved(host: Partner, partner: Partner, **changes: Any) -> Campaign:
    campaign = campaign_propose(campaign=draft(host, partner, **changes), actor=SYSTEM)
    return campaign_approve(campaign=campaign, actor=SYSTEM)


def surveying(host: Partner, partner: Partner, **changes: Any) -> Campaign:
    campaign = approved(host, partner, **changes)
    campaign_shipment_export(campaign=campaign, actor=SYSTEM)
    return campaign_survey_open(campaign=campaign, actor=SYSTEM)


ANSWERS = {"1": 4, "2": 0, "3": [0, 1], "4": "美味しかった"}


def test_the_reach_counts_consenting_members_in_the_segment_and_withholds_small_counts(
    sampling: Agreement, host: Partner, partner: Partner
) -> None:
    shoppers(host, 10)
    shopper(host, "H-osaka", prefecture="27")  # outside the segment
    shopper(host, "H-old", birth_date="1950-01-01")  # outside the age band
    shopper(host, "H-no", consent=False)  # never consented
    campaign = draft(host, partner)

    assert campaign_reach(campaign=campaign, actor=SYSTEM).count == 10
    MemberAccount.objects.filter(member_number="H-000").update(status="inactive")
    reach = campaign_reach(campaign=campaign, actor=SYSTEM)

    assert reach.count is None  # nine: below the minimum cell of 10
    assert reach.min_cell == 10
    # Each reach is a question of the overlap budget about the host's base, logged.
    assert OverlapQuery.objects.filter(asker=partner, other=host).count() == 2


def test_the_reach_spends_the_overlap_question_budget(
    sampling: Agreement, host: Partner, partner: Partner, settings: Any
) -> None:
    settings.SANPO_OVERLAP_QUESTIONS_PER_MONTH = 1
    campaign = draft(host, partner)
    campaign_reach(campaign=campaign, actor=SYSTEM)

    with pytest.raises(ApplicationError) as refused:
        campaign_reach(campaign=campaign, actor=SYSTEM)

    assert refused.value.code == "rate_limited"


def test_a_segment_too_narrow_is_refused_and_the_campaign_stays_a_draft(
    sampling: Agreement, host: Partner, partner: Partner
) -> None:
    shoppers(host, 3)
    campaign = draft(host, partner)

    with pytest.raises(ApplicationError) as refused:
        campaign_propose(campaign=campaign, actor=SYSTEM)

    assert refused.value.code == "segment_too_narrow"
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT
    assert not WebhookDelivery.objects.filter(event_type="campaigns.proposed").exists()


def test_a_campaign_needs_a_sampling_agreement(host: Partner, partner: Partner) -> None:
    with pytest.raises(ApplicationError) as refused:
        draft(host, partner)

    assert refused.value.code == "no_agreement"
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"segment": {"prefectures": ["99"]}}, "segment.prefectures"),
        ({"segment": {"age_bands": ["30-35"]}}, "segment.age_bands"),
        ({"segment": {"town": "Shibuya"}}, "segment"),
        (
            {"segment": {"active_within_days": 30, "dormant_for_days": 90}},
            "segment.dormant_for_days",
        ),
        ({"questions": []}, "questions"),
        ({"questions": [{"kind": "essay", "text_ja": "x", "text_en": "x"}]}, "questions.1.kind"),
        (
            {"questions": [{"kind": "single", "text_ja": "x", "text_en": "x"}]},
            "questions.1.choices",
        ),
    ],
)
def test_bad_proposals_are_refused_with_nothing_written(
    sampling: Agreement, host: Partner, partner: Partner, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ApplicationError) as refused:
        draft(host, partner, **changes)

    assert refused.value.code == "validation_failed"
    assert field in refused.value.fields
    assert not Campaign.objects.exists()


def test_approval_draws_consenting_members_of_the_segment_up_to_the_quantity(
    sampling: Agreement, host: Partner, partner: Partner
) -> None:
    members = shoppers(host, 15)
    shopper(host, "H-osaka", prefecture="27")
    withdrawn = members[0]
    campaign = campaign_propose(campaign=draft(host, partner), actor=SYSTEM)
    consent_withdraw(
        member=withdrawn,
        purpose_code="sampling_shipment",
        recipient=partner,
        channel="host_portal",
        occurred_at=timezone.now(),
        actor=SYSTEM,
    )

    campaign = campaign_approve(campaign=campaign, actor=SYSTEM)

    assert campaign.state == Campaign.State.SELECTING
    assert campaign.selected == 12
    assert len(campaign.seed) == 32
    drawn = set(
        CampaignMember.objects.filter(campaign=campaign).values_list("member_id", flat=True)
    )
    assert len(drawn) == 12
    assert drawn <= {m.pk for m in members[1:]}
    actions = set(AuditEvent.objects.filter(partner=partner).values_list("action", flat=True))
    assert {"campaigns.approved", "campaigns.selected"} <= actions
    events = set(WebhookDelivery.objects.values_list("event_type", flat=True))
    assert {"campaigns.approved", "campaigns.selected"} <= events


def test_the_draw_follows_its_recorded_seed_and_skips_members_in_a_recent_campaign(
    sampling: Agreement, host: Partner, partner: Partner
) -> None:
    shoppers(host, 30)
    first = approved(host, partner, quantity=10)
    again = sorted(
        CampaignMember.objects.filter(campaign=first).values_list("member_id", flat=True)
    )
    # The same seed over the same members draws the same sample.
    CampaignMember.objects.filter(campaign=first).delete()
    Campaign.objects.filter(pk=first.pk).update(state=Campaign.State.APPROVED)
    from federation.campaigns.services import campaign_select

    campaign_select(campaign=first, actor=SYSTEM)
    redrawn = sorted(
        CampaignMember.objects.filter(campaign=first).values_list("member_id", flat=True)
    )
    assert redrawn == again

    second = approved(host, partner, quantity=30)  # same category: the first ten rest
    other = approved(host, partner, quantity=30, category="drinks")

    assert second.selected == 20
    assert not set(redrawn) & set(second.members.values_list("member_id", flat=True))
    assert other.selected == 30


def test_the_host_rejects_with_a_reason_the_partner_hears(
    sampling: Agreement, host: Partner, partner: Partner
) -> None:
    shoppers(host, 10)
    campaign = campaign_propose(campaign=draft(host, partner), actor=SYSTEM)

    with pytest.raises(ApplicationError):
        campaign_reject(campaign=campaign, reason="  ", actor=SYSTEM)
    campaign = campaign_reject(campaign=campaign, reason="Not for our members", actor=SYSTEM)

    assert campaign.state == Campaign.State.REJECTED
    delivery = WebhookDelivery.objects.get(event_type="campaigns.rejected")
    assert delivery.payload["data"]["reason"] == "Not for our members"
    with pytest.raises(ApplicationError) as refused:
        campaign_approve(campaign=campaign, actor=SYSTEM)
    assert refused.value.code == "campaign_state"
    assert not CampaignMember.objects.exists()


def campaign_world(host: Partner, partner: Partner) -> dict[str, Campaign]:
    """For the permission matrix: ten consenting host members and three of the brand's
    campaigns: a draft with an image, one drawn (selecting), and one whose survey is open.
    Needs a notice naming the campaign purposes and the floor and noise of
    ``small_cell_floor`` and ``exact_overlap_counts``."""
    make_agreement(host, partner, terms=campaign_terms(host, partner), title="Sampling")
    shoppers(host, 10, start=900)
    drafted = draft(host, partner, category="fitness")
    campaign_image_add(
        campaign=drafted, data=base64.b64decode(PIXEL_PNG), content_type="image/png", actor=SYSTEM
    )
    return {
        "campaign_id": drafted,
        "shipping_campaign_id": approved(host, partner, quantity=10),
        "survey_campaign_id": surveying(host, partner, quantity=10, category="drinks"),
    }


def campaigns_state() -> tuple[Any, ...]:
    """What a campaign call could change."""
    return (
        sorted(Campaign.objects.values_list("pk", "state", "selected")),
        sorted(CampaignMember.objects.values_list("pk", "status", "exported_at")),
        SurveyAnswer.objects.count(),
        ProvisionRecord.objects.count(),
        sorted(CampaignImage.objects.values_list("campaign_id", "position")),
    )


def test_the_campaigns_holdout_is_never_drawn(
    sampling: Agreement, host: Partner, partner: Partner, settings: Any
) -> None:
    settings.SANPO_HOLDOUT_PERCENT = 30
    members = shoppers(host, 30)
    campaign = approved(host, partner, quantity=30)  # room for every eligible member
    holdout = Holdout.objects.get(key=f"campaign:{campaign.pk}")
    assert (holdout.kind, holdout.company, holdout.percent) == ("campaign", partner, 30)
    held = {m.pk for m in members if is_held_out(holdout, m.pk)}
    drawn = set(campaign.members.values_list("member_id", flat=True))
    assert held  # 30% of 30: some are held out, whatever the recorded seed
    assert not drawn & held
    assert drawn == {m.pk for m in members} - held
    # Recorded as they were held out: the group the campaign is measured against.
    assert set(campaign.held_out_members.values_list("member_id", flat=True)) == held


def test_the_metrics_count_a_campaigns_draw_on_its_day(
    sampling: Agreement, host: Partner, partner: Partner
) -> None:
    shoppers(host, 12)
    campaign = approved(host, partner, quantity=10)
    today = timezone.localdate()
    metrics_refresh_days(today, today)
    drawn = DailyFigure.objects.get(metric="campaign_drawn", company=partner, counterparty=host)
    assert drawn.value == campaign.selected == 10
    assert not DailyFigure.objects.filter(metric="campaign_shipped").exists()
