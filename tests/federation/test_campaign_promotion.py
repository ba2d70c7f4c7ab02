"""A well-rated product promoted in one step: the host's referral offer of the partner's
product, with the campaign's texts, audited and announced; refused (nothing written) when the
rating is too low, rests on too few answers, the survey is not open yet, it was promoted
already, no referral terms allow it, or a partner tries it on its own campaign."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from federation.campaigns.models import Campaign
from federation.campaigns.registrations import WEBHOOK_EVENTS
from federation.campaigns.services import campaign_answer, campaign_promote
from federation.models import Agreement
from federation.referrals.models import ReferralOffer
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import AuditEvent, MemberAccount, Partner, WebhookDelivery, WebhookEndpoint
from tests.conftest import Key, client_for
from tests.factories import flow, make_agreement, make_notice
from tests.federation.test_campaigns import (
    ANSWERS,
    SHIP,
    approved,
    campaign_terms,
    shoppers,
    surveying,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("small_cell_floor", "exact_overlap_counts"),
]
SYSTEM = Actor.system()
SHOP = "https://brand.example/protein-bar"


def promotion_terms(host: Partner, partner: Partner) -> dict[str, Any]:
    """The campaign terms, and the host may refer its members to the brand (500 yen a sale)."""
    terms = campaign_terms(host, partner)
    terms["data_flows"].append(flow(host, partner, "referral_tracking", "email"))
    terms["referral"] = {"fee_yen": "500", "attribution_days": 30}
    return terms


@pytest.fixture
def sampling(host: Partner, partner: Partner) -> Agreement:
    make_notice(
        purposes=["sampling_shipment", "research_survey", "referral_tracking"],
        recipients=[partner],
        data_items=[*SHIP, "email", "age_band", "kind"],
    )
    WebhookEndpoint.objects.create(
        partner=partner, url="https://hooks.brand.example/sanpo", events=list(WEBHOOK_EVENTS)
    )
    return make_agreement(host, partner, terms=promotion_terms(host, partner))


def rated(host: Partner, partner: Partner, ratings: list[int], **changes: Any) -> Campaign:
    """A campaign whose survey is open, answered by one member per rating given."""
    members = shoppers(host, max(len(ratings), 10))
    campaign = surveying(host, partner, quantity=len(members), **changes)
    for member, rating in zip(members, ratings, strict=False):
        answers = {**ANSWERS, "1": rating}
        campaign_answer(campaign=campaign, member=member, answers=answers, actor=SYSTEM)
    return campaign


def _nothing_promoted() -> None:
    assert not ReferralOffer.objects.exists()
    assert not AuditEvent.objects.filter(action="campaigns.promoted").exists()
    assert not WebhookDelivery.objects.filter(event_type="campaigns.promoted").exists()


def test_a_well_rated_product_becomes_the_hosts_referral_offer(
    sampling: Agreement, host: Partner, partner: Partner
) -> None:
    campaign = rated(host, partner, [5] * 8 + [4, 3], landing_url=SHOP)

    offer = campaign_promote(campaign=campaign, landing_url="", actor=SYSTEM)

    assert (offer.source, offer.destination) == (host, partner)
    assert (offer.title_ja, offer.title_en) == (campaign.name_ja, campaign.name_en)
    assert offer.description_en == campaign.description_en
    assert offer.landing_url == SHOP  # the partner's, given with the campaign
    assert offer.sale_fee_yen == 500
    campaign.refresh_from_db()
    assert campaign.promoted_offer == offer
    event = AuditEvent.objects.get(action="campaigns.promoted")
    assert event.detail["mean_rating"] == "4.70"
    delivery = WebhookDelivery.objects.get(event_type="campaigns.promoted")
    assert delivery.payload["data"]["offer_id"] == str(offer.pk)

    with pytest.raises(ApplicationError) as again:
        campaign_promote(campaign=campaign, landing_url=SHOP, actor=SYSTEM)
    assert again.value.code == "already_promoted"
    assert ReferralOffer.objects.count() == 1


@pytest.mark.parametrize(
    ("ratings", "why"),
    [
        ([3] * 10, "mean 3.00, below 4.0"),
        ([5] * 9, "nine ratings, below the minimum cell of 10"),
        ([], "no ratings at all"),
    ],
)
def test_a_product_not_rated_highly_by_enough_members_is_not_promoted(
    sampling: Agreement, host: Partner, partner: Partner, ratings: list[int], why: str
) -> None:
    campaign = rated(host, partner, ratings)

    with pytest.raises(ApplicationError) as refused:
        campaign_promote(campaign=campaign, landing_url=SHOP, actor=SYSTEM)

    assert refused.value.code == "not_promotable", why
    _nothing_promoted()


def test_a_campaign_is_promoted_only_once_its_survey_is_open(
    sampling: Agreement, host: Partner, partner: Partner
) -> None:
    shoppers(host, 10)
    campaign = approved(host, partner, quantity=10)

    with pytest.raises(ApplicationError) as refused:
        campaign_promote(campaign=campaign, landing_url=SHOP, actor=SYSTEM)

    assert refused.value.code == "campaign_state"
    _nothing_promoted()


def test_promotion_needs_referral_terms_and_an_https_landing_page(
    host: Partner, partner: Partner
) -> None:
    from tests.federation.test_campaigns import make_sampling

    make_sampling(host, partner)  # sampling and research, but no referral terms
    campaign = rated(host, partner, [5] * 10)

    with pytest.raises(ApplicationError) as refused:
        campaign_promote(campaign=campaign, landing_url=SHOP, actor=SYSTEM)
    assert refused.value.code == "no_agreement"
    _nothing_promoted()


def test_a_landing_page_is_required_and_https(
    sampling: Agreement, host: Partner, partner: Partner
) -> None:
    campaign = rated(host, partner, [5] * 10)

    for url in ("", "http://brand.example/bar"):
        with pytest.raises(ApplicationError) as refused:
            campaign_promote(campaign=campaign, landing_url=url, actor=SYSTEM)
        assert refused.value.code == "validation_failed"
    _nothing_promoted()


def _promote(key: Key, campaign: Campaign, body: Any) -> Any:
    return client_for(key).post(
        f"/api/v1/campaigns/{campaign.pk}/promote",
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )


def test_the_host_promotes_through_the_api_and_the_partner_cannot(
    sampling: Agreement, host: Partner, partner: Partner, host_key: Key, partner_key: Key
) -> None:
    campaign = rated(host, partner, [5] * 10)

    mine = _promote(partner_key, campaign, {"landing_url": SHOP})
    assert mine.status_code == 404, mine.content  # its own campaign, at the host's door
    _nothing_promoted()

    bad = _promote(host_key, campaign, {"landing_url": "not a url"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "validation_failed"
    extra = _promote(host_key, campaign, {"landing_url": SHOP, "fee": 1})
    assert extra.status_code == 400
    _nothing_promoted()

    answer = _promote(host_key, campaign, {"landing_url": SHOP})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["mean_rating"] == "5.00"
    assert body["ratings"] == 10
    offer = ReferralOffer.objects.get(pk=body["offer_id"])
    assert offer.landing_url == SHOP
    read = client_for(partner_key).get(f"/api/v1/campaigns/{campaign.pk}")
    assert read.json()["promoted_offer_id"] == str(offer.pk)

    again = _promote(host_key, campaign, {"landing_url": SHOP})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_promoted"
    assert MemberAccount.objects.filter(partner=host).count() == 10
