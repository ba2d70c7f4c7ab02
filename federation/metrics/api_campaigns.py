"""A sampling campaign's measured lift through the API: the partner that ran it only."""

from __future__ import annotations

from datetime import date, timedelta
from typing import ClassVar

from django.db.models import Min
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from federation.campaigns.access import access_campaign_by_id
from federation.campaigns.models import Campaign
from federation.kernel.api import READ, FederationEndpoint
from federation.metrics.api import MAX_DAYS, IntervalOutput, lift_period
from federation.metrics.errors import MetricsErrorCode
from federation.metrics.services import metrics_campaign_lift
from federation.metrics.stats import MIN_GROUP
from partners.api.schema import raises
from partners.errors import ErrorCode


class CampaignGroupOutput(serializers.Serializer):
    members = serializers.IntegerField(
        help_text="Members drawn (treated), or eligible members held out (holdout)."
    )
    active = serializers.IntegerField(help_text="Of them, active with your company in the period.")
    purchased = serializers.IntegerField(help_text="Of them, who bought from you in the period.")
    yen_per_member = serializers.FloatField(
        allow_null=True, help_text="Purchases in yen over the whole group (an estimate)."
    )
    coins_earned_per_member = serializers.FloatField(allow_null=True)
    coins_redeemed_per_member = serializers.FloatField(allow_null=True)


class CampaignGroupsOutput(serializers.Serializer):
    treated = CampaignGroupOutput()
    holdout = CampaignGroupOutput()


class CampaignLiftFiguresOutput(serializers.Serializer):
    active_rate = IntervalOutput(help_text="Newcombe's hybrid score interval.")
    purchase_rate = IntervalOutput(help_text="Newcombe's hybrid score interval.")
    yen_per_member = IntervalOutput(help_text="Welch's interval.")
    coins_earned_per_member = IntervalOutput(help_text="Welch's interval.")
    coins_redeemed_per_member = IntervalOutput(help_text="Welch's interval.")


class CampaignLiftOutput(serializers.Serializer):
    campaign = serializers.UUIDField()
    programme = serializers.CharField()
    holdout_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    seed = serializers.CharField(help_text="The recorded seed: the assignment reproduces.")
    start = serializers.DateField()
    end = serializers.DateField()
    groups = CampaignGroupsOutput()
    too_small = serializers.BooleanField(
        help_text=f"True when either group has fewer than {MIN_GROUP} members: no lift then."
    )
    min_group = serializers.IntegerField()
    lift = CampaignLiftFiguresOutput(required=False, help_text="Absent when `too_small`.")
    final = serializers.BooleanField(help_text="The period is over and its figures are kept.")
    computed_at = serializers.DateTimeField()


def _drawn_on(campaign: Campaign) -> date | None:
    """The day the campaign drew its members, a year back at most (None before it draws)."""
    drawn = campaign.members.aggregate(at=Min("selected_at"))["at"]
    if drawn is None:
        return None
    return max(timezone.localdate(drawn), timezone.localdate() - timedelta(days=MAX_DAYS - 1))


class CampaignLiftApi(FederationEndpoint):
    required_scopes: ClassVar[dict[str, str]] = {"GET": READ}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "from",
                date,
                description="The first day, 2000 to 2999 (default: the day it drew, a year back at "
                "most).",
            ),
            OpenApiParameter(
                "to", date, description="The last day, 2000 to 2999 (default: yesterday)."
            ),
        ],
        responses=CampaignLiftOutput,
        operation_id="metrics_campaign_lift",
        summary="The measured lift of your sampling campaign",
        description="The members your campaign drew (treated) against its eligible members "
        "held out when it drew (never contacted), and what each group did with your company "
        f"during the period (Japan's days, `from` to `to`, at most {MAX_DAYS} days): the "
        "shares active and that bought, yen and coins per member, and the differences with "
        "95% intervals, intent-to-treat. Counts of groups only, never who. When either group "
        f"has fewer than {MIN_GROUP} members, `too_small` is true and no lift is given. 404 "
        "for a campaign that is not yours; 422 `no_holdout` before it draws; 400 "
        "`validation_failed` for malformed or reversed dates or a period too long.",
    )
    @raises(ErrorCode.VALIDATION_FAILED, MetricsErrorCode.NO_HOLDOUT)
    def get(self, request: Request, campaign_id: str) -> Response:
        campaign = access_campaign_by_id(self.partner, campaign_id, role="partner")
        first, last = lift_period(request.query_params, _drawn_on(campaign))
        figures = metrics_campaign_lift(campaign, start=first, end=last)
        return Response(CampaignLiftOutput(figures).data)
