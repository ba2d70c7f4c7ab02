"""A campaign from the partner's draft to the host's decision: drafted with its survey,
proposed (only when its segment reaches enough members not to single any out), then approved,
which draws its members at once, or rejected with a reason."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from federation.campaigns.audit import CampaignAuditAction
from federation.campaigns.errors import CampaignErrorCode
from federation.campaigns.models import Campaign, SurveyQuestion
from federation.campaigns.segment import clean_segment
from federation.campaigns.services.common import (
    SHIPPING,
    SURVEY,
    record,
    require_state,
    terms_for,
)
from federation.campaigns.services.reach import campaign_reach
from federation.campaigns.services.selection import campaign_select
from federation.referrals.services import landing_url_clean
from partners.actors import Actor
from partners.errors import ApplicationError, validation_failed
from partners.models import Partner

State = Campaign.State
MAX_QUESTIONS = 20


@dataclass(frozen=True)
class CampaignInput:
    """What a partner proposes: the product, the segment, the dates, the survey."""

    name_ja: str
    name_en: str
    description_ja: str
    description_en: str
    category: str
    quantity: int
    segment: Any
    starts_on: date
    ends_on: date
    selection: str
    coins_per_answer: int
    questions: list[dict[str, Any]]
    landing_url: str = ""  # where members get the product, for a promotion


def _clean_questions(raw: list[dict[str, Any]]) -> list[SurveyQuestion]:
    if not raw or len(raw) > MAX_QUESTIONS:
        raise validation_failed(
            "questions", _("From 1 to %(most)s questions.") % {"most": MAX_QUESTIONS}
        )
    questions = []
    for position, item in enumerate(raw, start=1):
        kind, choices = str(item.get("kind", "")), item.get("choices") or []
        if kind not in SurveyQuestion.Kind.values:
            raise validation_failed(
                f"questions.{position}.kind",
                _("One of: %(kinds)s.") % {"kinds": ", ".join(SurveyQuestion.Kind.values)},
            )
        with_choices = kind in (SurveyQuestion.Kind.SINGLE, SurveyQuestion.Kind.MULTIPLE)
        if with_choices != bool(choices) or not (len(choices) <= 20):
            raise validation_failed(
                f"questions.{position}.choices",
                _("From 1 to 20 choices for a choice question, none for the others."),
            )
        questions.append(
            SurveyQuestion(
                position=position,
                kind=kind,
                text_ja=item.get("text_ja", ""),
                text_en=item.get("text_en", ""),
                choices=[{"ja": c.get("ja", ""), "en": c.get("en", "")} for c in choices],
            )
        )
    return questions


def campaign_create(
    *, partner: Partner, host: Partner, values: CampaignInput, actor: Actor
) -> Campaign:
    """A draft campaign of ``partner`` for ``host``'s members, with its survey. Raises
    ApplicationError: no_agreement (no sampling agreement in force, or no research one when the
    survey rewards coins), validation_failed."""
    terms = terms_for(host, partner, SHIPPING)
    segment = clean_segment(values.segment)
    if values.ends_on < values.starts_on:
        raise validation_failed("ends_on", _("On or after the start."))
    if values.coins_per_answer:
        programs = terms_for(host, partner, SURVEY).coin.get("programs", {})
        if partner.slug not in programs:
            raise validation_failed(
                "coins_per_answer",
                _("The agreement gives %(partner)s no coin program to fund answers with.")
                % {"partner": partner.slug},
            )
    questions = _clean_questions(values.questions)
    campaign = Campaign(
        partner=partner,
        host=host,
        agreement=terms.agreement,
        name_ja=values.name_ja,
        name_en=values.name_en,
        description_ja=values.description_ja,
        description_en=values.description_en,
        category=values.category,
        quantity=values.quantity,
        segment=segment,
        starts_on=values.starts_on,
        ends_on=values.ends_on,
        selection=values.selection,
        coins_per_answer=values.coins_per_answer,
        landing_url=landing_url_clean(values.landing_url) if values.landing_url else "",
    )
    campaign.full_clean()
    for question in questions:
        question.full_clean(exclude=["campaign"])
    with transaction.atomic():
        campaign.save()
        for question in questions:
            question.campaign = campaign
        SurveyQuestion.objects.bulk_create(questions)
        record(CampaignAuditAction.CREATED, campaign, actor, questions=len(questions))
    return campaign


def campaign_propose(*, campaign: Campaign, actor: Actor) -> Campaign:
    """Send a draft to the host for review. Its reach is asked once more (a question of the
    budget): a segment whose count would be withheld is refused with segment_too_narrow, and
    the campaign stays a draft. Raises ApplicationError: campaign_state, segment_too_narrow,
    no_agreement, rate_limited."""
    require_state(campaign, State.DRAFT)
    reach = campaign_reach(campaign=campaign, actor=actor)
    if reach.count is None:
        raise ApplicationError(
            CampaignErrorCode.SEGMENT_TOO_NARROW,
            _("The segment reaches too few members to be shown (fewer than %(min)s).")
            % {"min": reach.min_cell},
        )
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        require_state(campaign, State.DRAFT)
        campaign.state, campaign.updated_at = State.PROPOSED, timezone.now()
        campaign.save(update_fields=["state", "updated_at"])
        record(CampaignAuditAction.PROPOSED, campaign, actor, event="campaigns.proposed")
    return campaign


def _decide(campaign: Campaign, state: str, actor: Actor) -> Campaign:
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    require_state(locked, State.PROPOSED)
    locked.state = state
    locked.decided_at = locked.updated_at = timezone.now()
    locked.decided_by = actor.label[:200]
    return locked


def campaign_approve(*, campaign: Campaign, actor: Actor) -> Campaign:
    """The host approves a proposed campaign, and its members are drawn in the same
    transaction (``campaign_select``) with a fresh seed, recorded. Raises ApplicationError:
    campaign_state, no_agreement."""
    with transaction.atomic():
        campaign = _decide(campaign, State.APPROVED, actor)
        terms_for(campaign.host, campaign.partner, SHIPPING)
        campaign.seed = secrets.token_hex(16)
        campaign.save(update_fields=["state", "decided_at", "decided_by", "updated_at", "seed"])
        record(CampaignAuditAction.APPROVED, campaign, actor, event="campaigns.approved")
        return campaign_select(campaign=campaign, actor=actor)


def campaign_reject(*, campaign: Campaign, reason: str, actor: Actor) -> Campaign:
    """The host rejects a proposed campaign, with its reason for the partner. Raises
    ApplicationError: campaign_state, validation_failed (no reason)."""
    reason = reason.strip()
    if not reason or len(reason) > 2000:
        raise validation_failed("reason", _("Give the partner a reason (up to 2000 characters)."))
    with transaction.atomic():
        campaign = _decide(campaign, State.REJECTED, actor)
        campaign.reject_reason = reason
        campaign.save(
            update_fields=["state", "decided_at", "decided_by", "updated_at", "reject_reason"]
        )
        record(
            CampaignAuditAction.REJECTED,
            campaign,
            actor,
            event="campaigns.rejected",
            reason=reason,
        )
    return campaign
