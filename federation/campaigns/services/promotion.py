"""A well-rated product promoted in one step: the host makes a referral offer of the partner's
product (the campaign's names and descriptions, the partner's landing page), so its members
learn where to get it. Only once the survey is open or closed, only for a product whose mean
rating reaches ``MIN_RATING``, and only on enough answers to pass the disclosure rule (the
research agreement's minimum cell): a handful of enthusiasts is not a verdict."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from federation.campaigns.audit import CampaignAuditAction
from federation.campaigns.errors import CampaignErrorCode
from federation.campaigns.models import Campaign, SurveyQuestion
from federation.campaigns.services.common import SURVEY, record, require_state, terms_for
from federation.campaigns.services.results import exact_tallies
from federation.overlap.terms import effective_min_cell
from federation.referrals.models import ReferralOffer
from federation.referrals.services import referral_offer_create
from partners.actors import Actor
from partners.errors import ApplicationError

MIN_RATING = Decimal("4.0")


@dataclass(frozen=True)
class Rating:
    mean: Decimal | None  # to two places; None without rating answers
    ratings: int  # rating answers counted
    min_cell: int


def campaign_rating(campaign: Campaign) -> Rating:
    """The mean of every 1-5 rating answered in the campaign's survey (exact: for the host,
    whose members answered). Raises ApplicationError no_agreement (no research terms)."""
    terms = terms_for(campaign.host, campaign.partner, SURVEY)
    _respondents, tallies, _texts = exact_tallies(campaign)
    total = count = 0
    for question in campaign.questions.filter(kind=SurveyQuestion.Kind.RATING):
        for value, chose in tallies[question.position].items():
            total += int(value) * chose
            count += chose
    mean = (
        (Decimal(total) / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if count
        else None
    )
    return Rating(mean, count, effective_min_cell(terms.min_cell))


def _require_promotable(rating: Rating) -> None:
    if rating.mean is None or rating.ratings < rating.min_cell or rating.mean < MIN_RATING:
        raise ApplicationError(
            CampaignErrorCode.NOT_PROMOTABLE,
            _(
                "A product is promoted on a mean rating of at least %(least)s over at least "
                "%(min)s ratings; it has %(mean)s over %(count)s."
            )
            % {
                "least": MIN_RATING,
                "min": rating.min_cell,
                "mean": rating.mean if rating.mean is not None else "—",
                "count": rating.ratings,
            },
        )


def campaign_promote(*, campaign: Campaign, landing_url: str, actor: Actor) -> ReferralOffer:
    """The host's referral offer of the campaign's product to its partner, with the
    campaign's texts and ``landing_url`` (or the one the partner gave with the campaign), valid
    as the referral terms allow; the partner hears ``campaigns.promoted``. Raises
    ApplicationError: campaign_state (before the survey), already_promoted, not_promotable,
    no_agreement (no research terms, or none letting the host refer customers to the partner),
    validation_failed (no https landing URL)."""
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update()
            .select_related("host", "partner")
            .get(pk=campaign.pk)
        )
        require_state(campaign, Campaign.State.SURVEYING, Campaign.State.CLOSED)
        if campaign.promoted_offer_id is not None:
            raise ApplicationError(
                CampaignErrorCode.ALREADY_PROMOTED, CampaignErrorCode.ALREADY_PROMOTED.label
            )
        rating = campaign_rating(campaign)
        _require_promotable(rating)
        offer = referral_offer_create(
            source=campaign.host,
            destination=campaign.partner,
            texts={
                "title_ja": campaign.name_ja,
                "title_en": campaign.name_en,
                "description_ja": campaign.description_ja,
                "description_en": campaign.description_en,
            },
            landing_url=landing_url or campaign.landing_url,
            actor=actor,
        )
        campaign.promoted_offer, campaign.updated_at = offer, timezone.now()
        campaign.save(update_fields=["promoted_offer", "updated_at"])
        record(
            CampaignAuditAction.PROMOTED,
            campaign,
            actor,
            event="campaigns.promoted",
            offer_id=str(offer.pk),
            mean_rating=str(rating.mean),
            ratings=rating.ratings,
        )
    return offer
