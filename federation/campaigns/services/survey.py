"""The survey: opened once the product has shipped, answered once by each member drawn who
consents to research with the partner (the host's portal sends the answers), each answer
earning the campaign's coins through the ledger, funded by the partner; then closed."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.errors import ConsentErrorCode
from consent.selectors import consent_check
from federation.campaigns.audit import CampaignAuditAction
from federation.campaigns.errors import CampaignErrorCode
from federation.campaigns.models import Campaign, CampaignMember, SurveyAnswer, SurveyQuestion
from federation.campaigns.services.common import SURVEY, record, require_state, terms_for
from federation.coins.models import CoinTransaction
from federation.coins.services import Grant, coins_earn
from partners.actors import Actor
from partners.errors import ApplicationError, validation_failed
from partners.models import MemberAccount
from partners.normalize import age_band
from partners.services import member_person
from partners.services.member_records import open_member

Kind = SurveyQuestion.Kind
REMOVED = "[…]"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d\s()-]{8,}\d")
_POSTAL = re.compile(r"〒?\s*\d{3}-?\d{4}")


def scrub(text: str, names: list[str]) -> str:
    """``text`` without e-mail addresses, phone numbers, postal codes or ``names`` (the
    member's on record, whole and in parts)."""
    text = unicodedata.normalize("NFKC", text)
    for pattern in (_EMAIL, _PHONE, _POSTAL):
        text = pattern.sub(REMOVED, text)
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, REMOVED)
    return text


def _names_of(member: MemberAccount) -> list[str]:
    personal = open_member(member, ("name", "name_kana"))
    names: list[str] = []
    for value in personal.values():
        if value:
            value = unicodedata.normalize("NFKC", value)
            names += [value, *(part for part in re.split(r"\s+", value) if len(part) > 1)]
    return names


def _clean_value(question: SurveyQuestion, value: Any) -> Any:
    where = f"answers.{question.position}"
    if question.kind == Kind.TEXT:
        if not isinstance(value, str) or not value.strip() or len(value) > 2000:
            raise validation_failed(where, _("Text of up to 2000 characters."))
        return value
    if question.kind == Kind.MULTIPLE:
        if not isinstance(value, list) or not value or len(set(map(str, value))) != len(value):
            raise validation_failed(where, _("A list of different choices."))
        return sorted(_clean_value_one(question, where, item) for item in value)
    return _clean_value_one(question, where, value)


def _clean_value_one(question: SurveyQuestion, where: str, value: Any) -> int:
    top = 5 if question.kind == Kind.RATING else len(question.choices) - 1
    bottom = 1 if question.kind == Kind.RATING else 0
    if not isinstance(value, int) or isinstance(value, bool) or not bottom <= value <= top:
        raise validation_failed(
            where, _("A whole number from %(low)s to %(high)s.") % {"low": bottom, "high": top}
        )
    return value


def clean_answers(campaign: Campaign, raw: Any) -> dict[str, Any]:
    """The answers by question position; every question answered, nothing else."""
    questions = {str(q.position): q for q in campaign.questions.all()}
    if not isinstance(raw, dict) or set(raw) != set(questions):
        raise validation_failed("answers", _("One answer for each question, by its position."))
    return {key: _clean_value(questions[key], raw[key]) for key in sorted(questions, key=int)}


def _move(
    campaign: Campaign,
    source: str,
    target: str,
    action: CampaignAuditAction,
    event: str,
    actor: Actor,
) -> Campaign:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        require_state(campaign, source)
        campaign.state, campaign.updated_at = target, timezone.now()
        campaign.save(update_fields=["state", "updated_at"])
        record(action, campaign, actor, event=event)
    return campaign


def campaign_survey_open(*, campaign: Campaign, actor: Actor) -> Campaign:
    """Shipping done: members may answer. Raises ApplicationError campaign_state."""
    return _move(
        campaign,
        Campaign.State.SHIPPING,
        Campaign.State.SURVEYING,
        CampaignAuditAction.SURVEY_OPENED,
        "campaigns.survey_opened",
        actor,
    )


def campaign_close(*, campaign: Campaign, actor: Actor) -> Campaign:
    """No more answers. Raises ApplicationError campaign_state."""
    return _move(
        campaign,
        Campaign.State.SURVEYING,
        Campaign.State.CLOSED,
        CampaignAuditAction.CLOSED,
        "campaigns.closed",
        actor,
    )


def campaigns_close_ended(*, today: date | None = None) -> int:
    """Close every campaign still surveying after its end date (the daily task); returns how
    many. Campaigns are few: each is closed by ``campaign_close``, audited and announced."""
    today = today or timezone.localdate()
    ended = Campaign.objects.filter(state=Campaign.State.SURVEYING, ends_on__lt=today)
    closed = 0
    for campaign in ended.select_related("partner"):
        try:
            campaign_close(campaign=campaign, actor=Actor.system())
        except ApplicationError:  # closed by someone else meanwhile
            continue
        closed += 1
    return closed


def _refuse_if_not_drawn(drawn: CampaignMember | None) -> CampaignMember:
    if drawn is None or drawn.status == CampaignMember.Status.INVITED:
        raise ApplicationError(
            CampaignErrorCode.NOT_IN_CAMPAIGN, CampaignErrorCode.NOT_IN_CAMPAIGN.label
        )
    return drawn


def campaign_answer(
    *, campaign: Campaign, member: MemberAccount, answers: Any, actor: Actor
) -> SurveyAnswer:
    """Record ``member``'s answers, once, and earn it the campaign's coins (funded by the
    partner, under its program in the research agreement). Free text is kept only scrubbed.
    Raises ApplicationError: campaign_state, not_in_campaign, consent_required (research
    consent with the partner not in force now), already_answered, validation_failed,
    no_agreement."""
    require_state(campaign, Campaign.State.SURVEYING)
    terms = terms_for(campaign.host, campaign.partner, SURVEY)
    values = clean_answers(campaign, answers)
    texts = [q.position for q in campaign.questions.all() if q.kind == Kind.TEXT]
    if texts:
        names = _names_of(member)
        for position in texts:
            values[str(position)] = scrub(values[str(position)], names)
    try:
        with transaction.atomic():
            drawn = _refuse_if_not_drawn(
                CampaignMember.objects.select_for_update()
                .filter(campaign=campaign, member=member)
                .first()
            )
            if SurveyAnswer.objects.filter(campaign_member=drawn).exists():
                raise _answered()
            decision = consent_check(
                member_id=member.pk, purpose_code=SURVEY, recipient=campaign.partner
            )
            if not decision.allowed:
                raise ApplicationError(
                    ConsentErrorCode.CONSENT_REQUIRED,
                    _("The member's consent to research with %(partner)s is not in force.")
                    % {"partner": campaign.partner.slug},
                )
            answer = SurveyAnswer.objects.create(
                campaign=campaign,
                campaign_member=drawn,
                answers=values,
                age_band=age_band(member.birth_year, today=timezone.localdate()) or "",
                kind=member.kind,
            )
            if campaign.coins_per_answer:
                _reward(campaign, member, answer, terms.coin["programs"], actor)
            record(CampaignAuditAction.ANSWERED, campaign, actor, answer=answer.pk)
    except IntegrityError:
        raise _answered() from None
    return answer


def _answered() -> ApplicationError:
    return ApplicationError(
        CampaignErrorCode.ALREADY_ANSWERED, CampaignErrorCode.ALREADY_ANSWERED.label
    )


def _reward(
    campaign: Campaign,
    member: MemberAccount,
    answer: SurveyAnswer,
    programs: dict[str, Any],
    actor: Actor,
) -> None:
    program = programs.get(campaign.partner.slug)
    if program is None:
        raise validation_failed("coins_per_answer", _("The agreement no longer funds these coins."))
    days = program.get("expiry_days")
    posted = coins_earn(
        Grant(
            person=member_person(member),
            issuer=campaign.partner,
            coins=campaign.coins_per_answer,
            yen_per_coin=Decimal(program["yen_per_coin"]),
            kind=CoinTransaction.Kind.EARN_ACTION,
            reason={"campaign": str(campaign.pk), "action_type": "survey_answered"},
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        ),
        actor=actor,
        reference=f"campaign:{campaign.pk}:{answer.campaign_member_id}",
    )
    answer.coins, answer.coin_transaction_id = campaign.coins_per_answer, posted.pk
    answer.save(update_fields=["coins", "coin_transaction_id"])
