"""The demo alliance's sampling campaign: Hoshizora Foods (fictional) proposes a granola for
Kirari's members, with a picture of the box, Kirari approves it (members drawn), Hoshizora
exports the shipment list, members answer the survey through Kirari's portal and earn
Hoshizora's coins, and the campaign closes with its results. Kirari's members agree to
Hoshizora's sampling and research in the portal first (the demo consents give each brand
only a few). All through the services; each step looks at the campaign's state first, so
running it again adds nothing.
The README's worked example promotes the product and drafts a second campaign."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from django.utils import timezone
from PIL import Image, ImageDraw

from consent.selectors import consent_check, notice_in_force
from consent.services import consent_grant
from federation.campaigns.models import Campaign, SurveyAnswer
from federation.campaigns.services import (
    CampaignInput,
    campaign_answer,
    campaign_approve,
    campaign_close,
    campaign_create,
    campaign_image_add,
    campaign_propose,
    campaign_shipment_export,
    campaign_survey_open,
)
from partners.actors import Actor
from partners.models import MemberAccount, Partner

SYSTEM = Actor.system()
NAME_EN = "Hoshizora granola with black soybeans"
# Host members who agree to Hoshizora's sampling and research in the portal, how many are
# drawn, and how many of those answer. The README's member (K00000002) is left out: its coins
# are the README's story.
CONSENTING, QUANTITY, ANSWERING = 150, 100, 80
STORY_MEMBER = "K00000002"
QUESTIONS: list[dict[str, Any]] = [
    {"kind": "rating", "text_ja": "味はいかがでしたか", "text_en": "How did it taste?"},
    {
        "kind": "single",
        "text_ja": "また食べたいですか",
        "text_en": "Would you eat it again?",
        "choices": [{"ja": "はい", "en": "Yes"}, {"ja": "いいえ", "en": "No"}],
    },
    {
        "kind": "multiple",
        "text_ja": "良かった点",
        "text_en": "What was good",
        "choices": [
            {"ja": "味", "en": "Taste"},
            {"ja": "食感", "en": "Texture"},
            {"ja": "量", "en": "Portion"},
        ],
    },
    {"kind": "text", "text_ja": "ご意見をどうぞ", "text_en": "Any comments?"},
]
RATINGS = [5, 4, 5, 5, 4, 3, 5, 4]  # a mean of 4.375: promotable
COMMENTS = ["朝食にちょうど良い。", "甘さ控えめで美味しい。", "量がもう少し欲しい。"]


def seed_campaign(kirari: Partner, hoshizora: Partner) -> Campaign:
    """Hoshizora's granola campaign, taken as far as closed with its answers (under the
    amended sampling agreement: coins for answers, the phone for shipping)."""
    campaign = Campaign.objects.filter(partner=hoshizora, name_en=NAME_EN).first()
    if campaign is None:
        _consent(kirari, hoshizora)
        campaign = campaign_create(partner=hoshizora, host=kirari, values=_values(), actor=SYSTEM)
    if campaign.state == Campaign.State.DRAFT:
        if not campaign.images.exists():
            campaign_image_add(
                campaign=campaign, data=_packshot(), content_type="image/png", actor=SYSTEM
            )
        campaign = campaign_propose(campaign=campaign, actor=SYSTEM)
    if campaign.state == Campaign.State.PROPOSED:
        campaign = campaign_approve(campaign=campaign, actor=SYSTEM)
    if campaign.state == Campaign.State.SELECTING:
        campaign_shipment_export(campaign=campaign, actor=SYSTEM)
        campaign.refresh_from_db()
    if campaign.state == Campaign.State.SHIPPING:
        campaign = campaign_survey_open(campaign=campaign, actor=SYSTEM)
    if campaign.state == Campaign.State.SURVEYING:
        _answer(campaign)
        campaign = campaign_close(campaign=campaign, actor=SYSTEM)
    return campaign


def _packshot() -> bytes:
    """A drawn stand-in for the product's photo: a granola box on a table."""
    image = Image.new("RGB", (320, 200), (250, 244, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 150, 320, 200), fill=(196, 160, 120))
    draw.rectangle((110, 30, 210, 160), fill=(40, 50, 90))
    draw.ellipse((135, 60, 185, 110), fill=(240, 200, 80))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _values() -> CampaignInput:
    today = timezone.localdate()
    return CampaignInput(
        name_ja="ほしぞら 黒豆グラノーラ",
        name_en=NAME_EN,
        description_ja="国産の黒豆を使った、甘さ控えめのグラノーラです。",
        description_en="A lightly sweet granola with Japanese black soybeans.",
        category="breakfast",
        quantity=QUANTITY,
        segment={},
        starts_on=today,
        ends_on=today + timedelta(days=30),
        selection=Campaign.Selection.DIRECT,
        coins_per_answer=30,
        questions=QUESTIONS,
        landing_url="https://hoshizora.example/granola",
    )


def _consent(kirari: Partner, hoshizora: Partner) -> None:
    """The first host members (by number) agree to Hoshizora's sampling and research."""
    notice = notice_in_force()
    if notice is None:
        return
    members = (
        MemberAccount.objects.filter(partner=kirari, status=MemberAccount.Status.ACTIVE)
        .exclude(member_number=STORY_MEMBER)
        .order_by("member_number")[:CONSENTING]
    )
    at = timezone.now() - timedelta(minutes=10)
    for member in members:
        for purpose in ("sampling_shipment", "research_survey"):
            if consent_check(
                member_id=member.pk, purpose_code=purpose, recipient=hoshizora
            ).allowed:
                continue
            consent_grant(
                member=member,
                purpose_code=purpose,
                recipient=hoshizora,
                notice=notice,
                channel="host_portal",
                occurred_at=at,
                actor=SYSTEM,
            )


def _answer(campaign: Campaign) -> None:
    """The first members drawn who have not answered yet, up to ``ANSWERING`` in all."""
    answered = SurveyAnswer.objects.filter(campaign=campaign).values("campaign_member_id")
    drawn = (
        campaign.members.exclude(pk__in=answered)
        .exclude(member__member_number=STORY_MEMBER)
        .select_related("member")
        .order_by("member__member_number")
    )
    left = ANSWERING - SurveyAnswer.objects.filter(campaign=campaign).count()
    for n, one in enumerate(drawn[: max(left, 0)]):
        answers = {
            "1": RATINGS[n % len(RATINGS)],
            "2": 0 if n % 6 else 1,
            "3": [0] if n % 3 else [0, 1],
            "4": COMMENTS[n % len(COMMENTS)],
        }
        campaign_answer(campaign=campaign, member=one.member, answers=answers, actor=SYSTEM)
