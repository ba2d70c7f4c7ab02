"""A company's measured lift through the API: its own programmes only."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from federation.coins.terms import ACTION_TYPE
from federation.kernel.api import READ, FederationEndpoint
from federation.metrics.days import parse_day
from federation.metrics.errors import MetricsErrorCode
from federation.metrics.services import metrics_action_lift, metrics_reactivation_lift
from federation.metrics.stats import MIN_GROUP
from partners.api.schema import raises
from partners.errors import ErrorCode, validation_failed

MAX_DAYS = 366
DORMANT_DAYS = (30, 730)


class GroupOutput(serializers.Serializer):
    members = serializers.IntegerField(help_text="Members dormant when the period began.")
    reactivated = serializers.IntegerField(help_text="Of them, active at least once in it.")
    purchased = serializers.IntegerField(help_text="Of them, who bought at least once in it.")
    yen_per_member = serializers.FloatField(
        allow_null=True, help_text="Purchases in yen over the whole group (an estimate)."
    )
    coins_earned_per_member = serializers.FloatField(allow_null=True)
    coins_redeemed_per_member = serializers.FloatField(allow_null=True)


class IntervalOutput(serializers.Serializer):
    difference = serializers.FloatField(help_text="Treated minus holdout.")
    low = serializers.FloatField(help_text="Lower end of the 95% interval.")
    high = serializers.FloatField(help_text="Upper end of the 95% interval.")


class LiftOutput(serializers.Serializer):
    reactivation_rate = IntervalOutput(help_text="Newcombe's hybrid score interval.")
    purchase_rate = IntervalOutput(help_text="Newcombe's hybrid score interval.")
    yen_per_member = IntervalOutput(help_text="Welch's interval.")
    coins_earned_per_member = IntervalOutput(help_text="Welch's interval.")
    coins_redeemed_per_member = IntervalOutput(help_text="Welch's interval.")


class GroupsOutput(serializers.Serializer):
    treated = GroupOutput()
    holdout = GroupOutput()


class ReactivationLiftOutput(serializers.Serializer):
    programme = serializers.CharField()
    holdout_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    seed = serializers.CharField(help_text="The recorded seed: the assignment reproduces.")
    start = serializers.DateField()
    end = serializers.DateField()
    dormant_days = serializers.IntegerField()
    groups = GroupsOutput()
    too_small = serializers.BooleanField(
        help_text=f"True when either group has fewer than {MIN_GROUP} members: no lift then."
    )
    min_group = serializers.IntegerField()
    lift = LiftOutput(required=False, help_text="Absent when `too_small`.")
    final = serializers.BooleanField(help_text="The period is over and its figures are kept.")
    computed_at = serializers.DateTimeField()


def _day(raw: str | None, name: str, default: date) -> date:
    if raw is None:
        return default
    day = parse_day(raw)
    if day is None:
        raise validation_failed(name, _("A date, YYYY-MM-DD, from 2000 to 2999."))
    return day


def lift_period(params: Any, began: date | None = None) -> tuple[date, date]:
    """``from`` and ``to``: by default from the day the programme ``began`` (or 30 days back)
    to yesterday (or that day, when it began today)."""
    yesterday = timezone.localdate() - timedelta(days=1)
    last = _day(params.get("to"), "to", max(yesterday, began or yesterday))
    first = _day(params.get("from"), "from", began or last - timedelta(days=29))
    if not timedelta(0) <= last - first < timedelta(days=MAX_DAYS):
        raise validation_failed(
            "from", _("From on or before to, at most %(days)s days.") % {"days": MAX_DAYS}
        )
    return first, last


def _dormant_days(raw: str | None) -> int:
    low, high = DORMANT_DAYS
    if raw is None:
        return 90
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise validation_failed(
            "dormant_days", _("Whole days from %(low)s to %(high)s.") % {"low": low, "high": high}
        )
    return int(raw)


PERIOD_PARAMETERS = [
    OpenApiParameter(
        "from", date, description="The first day, 2000 to 2999 (default: 30 days ago)."
    ),
    OpenApiParameter("to", date, description="The last day, 2000 to 2999 (default: yesterday)."),
    OpenApiParameter(
        "dormant_days",
        {"type": "integer", "minimum": DORMANT_DAYS[0], "maximum": DORMANT_DAYS[1]},
        description=f"Dormant means no activity for this many days before `from` "
        f"({DORMANT_DAYS[0]} to {DORMANT_DAYS[1]}; default 90: use your programme's "
        "reactivation days).",
    ),
]


class ReactivationLiftApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        parameters=PERIOD_PARAMETERS,
        responses=ReactivationLiftOutput,
        operation_id="metrics_reactivation_lift",
        summary="The measured lift of your reactivation bonus",
        description="Your members dormant when the period began, split into the treated group "
        "and the holdout your reactivation bonus never rewards, with what each did during the "
        "period (Japan's days, `from` to `to`, at most "
        f"{MAX_DAYS} days): reactivation and purchase rates, yen and coins per member, and "
        "the differences with 95% intervals, intent-to-treat. When either group has fewer "
        f"than {MIN_GROUP} members, `too_small` is true and no lift is given. 422 "
        "`no_holdout` while the programme has recorded no holdout; 400 `validation_failed` "
        "for malformed or reversed dates or a period too long.",
    )
    @raises(ErrorCode.VALIDATION_FAILED, MetricsErrorCode.NO_HOLDOUT)
    def get(self, request: Request) -> Response:
        params = request.query_params
        first, last = lift_period(params)
        figures = metrics_reactivation_lift(
            self.partner,
            start=first,
            end=last,
            dormant_days=_dormant_days(params.get("dormant_days")),
        )
        return Response(ReactivationLiftOutput(figures).data)


class ActionLiftApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "action_type",
                {"type": "string", "pattern": f"^{ACTION_TYPE.pattern}$"},
                required=True,
                description="The rule's action type, as in the agreement's coin terms.",
            ),
            *PERIOD_PARAMETERS,
        ],
        responses=ReactivationLiftOutput,
        operation_id="metrics_action_lift",
        summary="The measured lift of one of your action-earning rules",
        description="As the reactivation bonus's lift, for the action-earning rule "
        "`action_type` of yours that keeps a holdout (`holdout_percent` in the agreement's "
        "coin terms; its held-out members earn nothing by the rule): your members dormant when "
        "the period began, treated and held out, and what each did during it. 422 "
        "`no_holdout` while the rule has held no member out (or keeps no holdout, or is not "
        "yours); 400 `validation_failed` without a well-formed `action_type`, or for "
        "malformed or reversed dates or a period too long.",
    )
    @raises(ErrorCode.VALIDATION_FAILED, MetricsErrorCode.NO_HOLDOUT)
    def get(self, request: Request) -> Response:
        params = request.query_params
        action_type = params.get("action_type", "")
        if not ACTION_TYPE.fullmatch(action_type):
            raise validation_failed(
                "action_type",
                _("Name the rule's action type: a-z, digits and _, at most 40 characters."),
            )
        first, last = lift_period(params)
        figures = metrics_action_lift(
            self.partner,
            action_type,
            start=first,
            end=last,
            dormant_days=_dormant_days(params.get("dormant_days")),
        )
        return Response(ReactivationLiftOutput(figures).data)
