"""Coins for an action between purchases, reported by the company where it happened."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from federation.coins.api.base import KEYS, MEMBER_GATES, MEMBER_RULE, CoinPostingEndpoint
from federation.coins.api.inputs import MemberInput, OccurredAtField
from federation.coins.api.outputs import BalancesOutput, balances_view
from federation.coins.errors import CoinErrorCode
from federation.coins.links import balances_for
from federation.coins.services import coins_earn_for_action
from federation.coins.terms import ACTION_TYPE
from partners.api.schema import raises
from partners.services import member_person


class ActionInput(MemberInput):
    action_type = serializers.RegexField(
        f"^{ACTION_TYPE.pattern}$",
        max_length=40,
        help_text="The action, as your program's catalogue in the agreement names it: "
        "video_watched, event_attended, survey_answered, review_written, ...",
    )
    content_id = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text="What the action was about (the video's, event's or survey's id): an action "
        "the catalogue grants once per content earns once for it.",
    )
    occurred_at = OccurredAtField(
        days_back=30,
        help_text="When the member did it (default: now): within the last 30 days and not "
        "in the future. The caps per day and month count in Japan's days.",
    )


class ReactivationOutput(serializers.Serializer):
    bonus = serializers.IntegerField(help_text="Bonus coins for coming back.")
    dormant_days = serializers.IntegerField(help_text="Days since the member's last activity.")
    transaction_id = serializers.UUIDField()


class ActionOutput(serializers.Serializer):
    transaction_id = serializers.UUIDField()
    coins = serializers.IntegerField(help_text="Coins the action earned (the bonus aside).")
    action_type = serializers.CharField()
    content_id = serializers.CharField(allow_blank=True)
    reactivation = ReactivationOutput(
        allow_null=True,
        help_text="Set when the member had been dormant for the program's days and got its "
        "reactivation bonus.",
    )
    balances = BalancesOutput()


class CoinActionApi(CoinPostingEndpoint):
    @extend_schema(
        request=ActionInput,
        responses={201: ActionOutput},
        operation_id="coins_action",
        summary="Earn coins for an action between purchases",
        description="Coins for an action of the member's at your company (a video watched, an "
        "event attended, a survey answered, a review written), as your program's action "
        "catalogue in the agreement terms in force grants them: an action it does not list is "
        "422 `unknown_action`; past its cap per member and day or month 409 "
        "`action_cap_reached`; an action granted once per content and already rewarded for "
        "this content 409 `action_already_rewarded` (also when two reports race); for a "
        "member in the action's holdout group (a rule may keep one to measure its effect) 409 "
        "`action_held_out`. A member dormant for the program's reactivation days also gets "
        f"its reactivation bonus, recorded for the metrics. {MEMBER_RULE} {KEYS}",
        examples=[
            OpenApiExample(
                "A product video watched",
                value={
                    "member_number": "M-0042",
                    "action_type": "video_watched",
                    "content_id": "VID-2026-11",
                },
                request_only=True,
            )
        ],
    )
    @raises(
        *MEMBER_GATES,
        CoinErrorCode.UNKNOWN_ACTION,
        CoinErrorCode.ACTION_CAP_REACHED,
        CoinErrorCode.ACTION_ALREADY_REWARDED,
        CoinErrorCode.ACTION_HELD_OUT,
    )
    def post(self, request: Request) -> Response:
        values = self.validated(ActionInput)
        member = self.member_named(values)
        outcome = coins_earn_for_action(
            company=self.partner,
            member=member,
            action_type=values["action_type"],
            content_id=values["content_id"],
            occurred_at=values.get("occurred_at"),
            actor=self.actor,
        )
        grant, back = outcome.grant, outcome.reactivation
        body = {
            "transaction_id": grant.transaction_id,
            "coins": grant.coins,
            "action_type": grant.action_type,
            "content_id": grant.content_id,
            "reactivation": None
            if back is None
            else {
                "bonus": back.bonus,
                "dormant_days": back.dormant_days,
                "transaction_id": back.bonus_transaction_id,
            },
            "balances": balances_view(balances_for(self.partner, member_person(member))),
        }
        return Response(ActionOutput(body).data, status=status.HTTP_201_CREATED)
