"""The host's campaign endpoints: approve or reject a proposal (its admin scope), and what its
members' portal reports: an invitation confirmed, a survey answered. A partner calling them on
its own campaign is answered like a stranger (404): it cannot approve its own proposal."""

from __future__ import annotations

from typing import ClassVar

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from consent.errors import ConsentErrorCode
from federation.campaigns.access import access_campaign_by_id
from federation.campaigns.api.outputs import CampaignOutput
from federation.campaigns.api.partner import landing_url_field
from federation.campaigns.errors import CampaignErrorCode
from federation.campaigns.services import (
    campaign_answer,
    campaign_approve,
    campaign_member_confirm,
    campaign_promote,
    campaign_rating,
    campaign_reject,
)
from federation.errors import FederationErrorCode
from federation.kernel.api import ADMIN, WRITE, FederationEndpoint
from partners.access import access_member_by_number
from partners.api.base import StrictInputSerializer
from partners.api.schema import raises

KEYS = "An `Idempotency-Key` is required: a retry replays the first answer."
HOST_ONLY = "Only the host whose members the campaign is for; anyone else gets 404."


class MemberNumberInput(StrictInputSerializer):
    member_number = serializers.CharField(max_length=64, help_text="Your member's number.")


class AnswerInput(MemberNumberInput):
    answers = serializers.JSONField(
        help_text="By question position: a rating 1-5, a choice's index, a list of indexes, "
        "or text (up to 2000 characters)."
    )


class AnswerOutput(serializers.Serializer):
    campaign_id = serializers.UUIDField()
    coins = serializers.IntegerField(help_text="Coins the answer earned the member.")
    transaction_id = serializers.UUIDField(allow_null=True)


class RejectInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=2000, help_text="Sent to the partner.")


class PromoteInput(StrictInputSerializer):
    landing_url = landing_url_field(
        "An https page where members get the product; else the one given with the campaign."
    )


class PromotionOutput(serializers.Serializer):
    campaign_id = serializers.UUIDField()
    offer_id = serializers.UUIDField(help_text="The referral offer, from the host to the partner.")
    mean_rating = serializers.DecimalField(max_digits=4, decimal_places=2)
    ratings = serializers.IntegerField(help_text="Rating answers the mean is over.")


class CampaignApproveApi(FederationEndpoint):
    required_scopes: ClassVar[dict[str, str]] = {"POST": ADMIN}
    idempotency_required = True

    @extend_schema(
        request=None,
        responses=CampaignOutput,
        operation_id="campaigns_approve",
        summary="Approve a proposed campaign",
        description="Approves it and draws its members at once (a random draw whose seed is "
        "recorded); the partner hears `campaigns.approved` and `campaigns.selected`. 409 "
        f"`campaign_state` unless proposed. {HOST_ONLY} {KEYS}",
    )
    @raises(CampaignErrorCode.CAMPAIGN_STATE, FederationErrorCode.NO_AGREEMENT)
    def post(self, request: Request, campaign_id: str) -> Response:
        campaign = access_campaign_by_id(self.partner, campaign_id, role="host")
        return Response(CampaignOutput(campaign_approve(campaign=campaign, actor=self.actor)).data)


class CampaignRejectApi(FederationEndpoint):
    required_scopes: ClassVar[dict[str, str]] = {"POST": ADMIN}
    idempotency_required = True

    @extend_schema(
        request=RejectInput,
        examples=[
            OpenApiExample(
                "Not for our members",
                value={"reason": "Energy drinks do not fit our members' households."},
                request_only=True,
            )
        ],
        responses=CampaignOutput,
        operation_id="campaigns_reject",
        summary="Reject a proposed campaign",
        description="Rejects it with a reason the partner hears (`campaigns.rejected`). 409 "
        f"`campaign_state` unless proposed. {HOST_ONLY} {KEYS}",
    )
    @raises(CampaignErrorCode.CAMPAIGN_STATE)
    def post(self, request: Request, campaign_id: str) -> Response:
        campaign = access_campaign_by_id(self.partner, campaign_id, role="host")
        reason = self.validated(RejectInput)["reason"]
        rejected = campaign_reject(campaign=campaign, reason=reason, actor=self.actor)
        return Response(CampaignOutput(rejected).data)


class CampaignConfirmApi(FederationEndpoint):
    required_scopes: ClassVar[dict[str, str]] = {"POST": WRITE}
    idempotency_required = True

    @extend_schema(
        request=MemberNumberInput,
        examples=[
            OpenApiExample(
                "A member confirms", value={"member_number": "K00000002"}, request_only=True
            )
        ],
        responses=None,
        operation_id="campaigns_confirm",
        summary="Confirm a member's invitation",
        description="Your member accepted the invitation (campaigns that invite first); "
        "again changes nothing. 422 `not_in_campaign` unless invited; 404 for a member number "
        f"not in your base. {HOST_ONLY} {KEYS}",
    )
    @raises(CampaignErrorCode.NOT_IN_CAMPAIGN, CampaignErrorCode.CAMPAIGN_STATE)
    def post(self, request: Request, campaign_id: str) -> Response:
        campaign = access_campaign_by_id(self.partner, campaign_id, role="host")
        values = self.validated(MemberNumberInput)
        member = access_member_by_number(self.partner, values["member_number"])
        campaign_member_confirm(campaign=campaign, member=member, actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CampaignAnswerApi(FederationEndpoint):
    required_scopes: ClassVar[dict[str, str]] = {"POST": WRITE}
    idempotency_required = True

    @extend_schema(
        request=AnswerInput,
        examples=[
            OpenApiExample(
                "A rating, a choice and a comment",
                value={"member_number": "K00000002", "answers": [4, 1, "Not too sweet."]},
                request_only=True,
            )
        ],
        responses={201: AnswerOutput},
        operation_id="campaigns_answer",
        summary="Record a member's survey answers",
        description="Once per member: 409 `already_answered` after. Only a member drawn for "
        "the campaign (422 `not_in_campaign`) who consents to `research_survey` with the "
        "partner now (403 `consent_required`), while the survey is open (409 "
        "`campaign_state`). The answer earns the campaign's coins, funded by the partner. "
        f"Free text is kept only scrubbed of anything identifying. {HOST_ONLY} {KEYS}",
    )
    @raises(
        CampaignErrorCode.NOT_IN_CAMPAIGN,
        CampaignErrorCode.ALREADY_ANSWERED,
        CampaignErrorCode.CAMPAIGN_STATE,
        ConsentErrorCode.CONSENT_REQUIRED,
        FederationErrorCode.NO_AGREEMENT,
    )
    def post(self, request: Request, campaign_id: str) -> Response:
        campaign = access_campaign_by_id(self.partner, campaign_id, role="host")
        values = self.validated(AnswerInput)
        member = access_member_by_number(self.partner, values["member_number"])
        answer = campaign_answer(
            campaign=campaign, member=member, answers=values["answers"], actor=self.actor
        )
        body = {
            "campaign_id": campaign.pk,
            "coins": answer.coins,
            "transaction_id": answer.coin_transaction_id,
        }
        return Response(AnswerOutput(body).data, status=status.HTTP_201_CREATED)


class CampaignPromoteApi(FederationEndpoint):
    required_scopes: ClassVar[dict[str, str]] = {"POST": ADMIN}
    idempotency_required = True

    @extend_schema(
        request=PromoteInput,
        examples=[
            OpenApiExample(
                "Promote to our members",
                value={"landing_url": "https://hoshizora.example/granola"},
                request_only=True,
            )
        ],
        responses={201: PromotionOutput},
        operation_id="campaigns_promote",
        summary="Promote a well-rated product",
        description="Makes your referral offer of the partner's product, with the campaign's "
        "names and descriptions and the landing URL (given here, or the one the partner gave "
        "with the campaign), so your members learn where to get it; the partner hears "
        "`campaigns.promoted`. 422 `not_promotable` unless its mean rating is at least 4.0 "
        "over at least the agreement's minimum cell of ratings; 409 `campaign_state` before "
        "the survey opens, 409 `already_promoted` the second time; 403 `no_agreement` unless "
        f"an agreement in force has referral terms from you to the partner. {HOST_ONLY} {KEYS}",
    )
    @raises(
        CampaignErrorCode.NOT_PROMOTABLE,
        CampaignErrorCode.ALREADY_PROMOTED,
        CampaignErrorCode.CAMPAIGN_STATE,
        FederationErrorCode.NO_AGREEMENT,
    )
    def post(self, request: Request, campaign_id: str) -> Response:
        campaign = access_campaign_by_id(self.partner, campaign_id, role="host")
        landing_url = self.validated(PromoteInput)["landing_url"]
        offer = campaign_promote(campaign=campaign, landing_url=landing_url, actor=self.actor)
        rating = campaign_rating(campaign)
        body = {
            "campaign_id": campaign.pk,
            "offer_id": offer.pk,
            "mean_rating": rating.mean,
            "ratings": rating.ratings,
        }
        return Response(PromotionOutput(body).data, status=status.HTTP_201_CREATED)
