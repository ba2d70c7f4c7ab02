"""The partner's campaign endpoints: propose a campaign (drafted, then sent for review), read
its own, ask the reach of its segment while drafting, take the shipment list, and read the
results in aggregates. Another partner's campaign answers like a missing one (404)."""

from __future__ import annotations

from typing import ClassVar

from django.http import QueryDict
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from federation.campaigns.access import access_campaign_by_id, campaigns_visible_to, the_host
from federation.campaigns.api.outputs import (
    CampaignOutput,
    CampaignPageOutput,
    ReachOutput,
    ResultsOutput,
    ShipmentOutput,
    reach_view,
    results_view,
)
from federation.campaigns.errors import CampaignErrorCode
from federation.campaigns.models import Campaign, SurveyQuestion
from federation.campaigns.services import (
    CampaignInput,
    campaign_create,
    campaign_propose,
    campaign_reach,
    campaign_results,
    campaign_shipment_export,
)
from federation.campaigns.services.results import BREAKDOWNS
from federation.errors import FederationErrorCode
from federation.kernel.api import READ, WRITE, FederationEndpoint, choice_field
from partners.api.base import StrictInputSerializer
from partners.api.fields import NamedChoiceField
from partners.api.schema import raises
from partners.errors import ApplicationError, ErrorCode

KEYS = "An `Idempotency-Key` is required: a retry replays the first answer."
BUDGET = (
    "Each answer is a question of your budget about the host's base, shared with overlap "
    "questions (20 in 30 days by default; 429 `rate_limited` beyond, with Retry-After), and "
    "carries fresh noise; counts below the agreement's `min_cell` are withheld (null)."
)


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            "age_bands": {"type": "array", "items": {"type": "string"}},
            "prefectures": {"type": "array", "items": {"type": "string"}},
            "kinds": {"type": "array", "items": {"type": "string"}},
            "active_within_days": {"type": "integer", "minimum": 1},
            "dormant_for_days": {"type": "integer", "minimum": 1},
        },
    }
)
class SegmentField(serializers.JSONField):
    """The segment, an object (checked in full by the service)."""


def landing_url_field(help_text: str) -> serializers.RegexField:
    """An optional https URL (the referral service checks it in full)."""
    return serializers.RegexField(
        r"^https://[^\s/?#@]+(/[^\s]*)?$",
        max_length=500,
        required=False,
        default="",
        help_text=help_text,
    )


class ChoiceInput(StrictInputSerializer):
    ja = serializers.CharField(max_length=200)
    en = serializers.CharField(max_length=200)


class QuestionInput(StrictInputSerializer):
    kind = choice_field(SurveyQuestion.Kind)
    text_ja = serializers.CharField(max_length=500)
    text_en = serializers.CharField(max_length=500)
    choices = ChoiceInput(many=True, required=False, help_text="For single and multiple choice.")


class CampaignCreateInput(StrictInputSerializer):
    name_ja = serializers.CharField(max_length=200)
    name_en = serializers.CharField(max_length=200)
    description_ja = serializers.CharField(max_length=4000)
    description_en = serializers.CharField(max_length=4000)
    category = serializers.SlugField(max_length=50, help_text="supplements, snacks, fitness, ...")
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    segment = SegmentField(
        help_text="`age_bands` (under-20, 20-29, ..., 80+), `prefectures` (JIS codes 01-47), "
        "`kinds` (household, business): lists, empty or absent for all; optionally "
        "`active_within_days` or `dormant_for_days`."
    )
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    selection = choice_field(Campaign.Selection)
    coins_per_answer = serializers.IntegerField(min_value=0, max_value=100_000, default=0)
    questions = QuestionInput(many=True, help_text="From 1 to 20, answered by position.")
    landing_url = landing_url_field(
        "An https page where members get the product, used if the host promotes it."
    )


class CampaignListApi(FederationEndpoint):
    required_scopes: ClassVar[dict[str, str]] = {"GET": READ, "POST": WRITE}
    idempotency_required = True

    @extend_schema(
        responses=CampaignPageOutput,
        operation_id="campaigns_list",
        summary="List campaigns",
        description="The campaigns your company proposed, or (the host) that are for its "
        "members, newest first.",
    )
    def get(self, request: Request) -> Response:
        queryset = campaigns_visible_to(self.partner).prefetch_related("questions")
        return self.paginated(queryset, CampaignOutput)

    @extend_schema(
        request=CampaignCreateInput,
        examples=[
            OpenApiExample(
                "A protein bar for active members in Kanto",
                value={
                    "name_ja": "ミドリ プロテインバー",
                    "name_en": "Midori protein bar",
                    "description_ja": "運動のあとに。",
                    "description_en": "For after a workout.",
                    "category": "snacks",
                    "quantity": 200,
                    "segment": {"age_bands": ["30-39", "40-49"], "prefectures": ["13", "14"]},
                    "starts_on": "2027-01-10",
                    "ends_on": "2027-02-10",
                    "selection": "direct",
                    "coins_per_answer": 50,
                    "landing_url": "https://midori.example/protein-bar",
                    "questions": [
                        {"kind": "rating", "text_ja": "味はいかがでしたか", "text_en": "The taste?"}
                    ],
                },
                request_only=True,
            )
        ],
        responses={201: CampaignOutput},
        operation_id="campaigns_create",
        summary="Draft a campaign",
        description="A draft campaign for the host's members: the product, the segment, the "
        "dates, the survey and the coins each answer earns (funded by you under your coin "
        "program in the research agreement). 403 `no_agreement` unless an agreement in force "
        "lets the host give you members for `sampling_shipment` (and for `research_survey` "
        f"when answers earn coins); 400 `validation_failed` for a bad segment or survey. {KEYS}",
    )
    @raises(FederationErrorCode.NO_AGREEMENT)
    def post(self, request: Request) -> Response:
        values = self.validated(CampaignCreateInput)
        values["questions"] = [dict(q) for q in values["questions"]]
        campaign = campaign_create(
            partner=self.partner, host=the_host(), values=CampaignInput(**values), actor=self.actor
        )
        return Response(CampaignOutput(campaign).data, status=status.HTTP_201_CREATED)


class CampaignDetailApi(FederationEndpoint):
    required_scopes: ClassVar[dict[str, str]] = {"GET": READ}

    @extend_schema(
        responses=CampaignOutput,
        operation_id="campaigns_read",
        summary="Read a campaign",
        description="A campaign you proposed or, as the host, one for your members; any "
        "other is 404.",
    )
    def get(self, request: Request, campaign_id: str) -> Response:
        return Response(CampaignOutput(access_campaign_by_id(self.partner, campaign_id)).data)


class CampaignReachApi(FederationEndpoint):
    required_scopes: ClassVar[dict[str, str]] = {"GET": READ}

    @extend_schema(
        responses=ReachOutput,
        operation_id="campaigns_reach",
        summary="Count a draft's reach",
        description="How many of the host's members the draft's segment reaches now: active, "
        "consenting to `sampling_shipment` with you, and not drawn for a campaign of the same "
        f"category lately. A count, never who. {BUDGET} 409 `campaign_state` once decided.",
    )
    @raises(
        CampaignErrorCode.CAMPAIGN_STATE, FederationErrorCode.NO_AGREEMENT, ErrorCode.RATE_LIMITED
    )
    def get(self, request: Request, campaign_id: str) -> Response:
        campaign = access_campaign_by_id(self.partner, campaign_id, role="partner")
        return Response(
            ReachOutput(reach_view(campaign_reach(campaign=campaign, actor=self.actor))).data
        )


class CampaignProposeApi(FederationEndpoint):
    required_scopes: ClassVar[dict[str, str]] = {"POST": WRITE}
    idempotency_required = True

    @extend_schema(
        request=None,
        responses=CampaignOutput,
        operation_id="campaigns_propose",
        summary="Propose a draft for review",
        description="Sends a draft to the host for review (webhook `campaigns.proposed`). Its "
        "reach is counted once more: 422 `segment_too_narrow` when it would be withheld, and "
        f"the campaign stays a draft. 409 `campaign_state` unless a draft. {BUDGET} {KEYS}",
    )
    @raises(
        CampaignErrorCode.CAMPAIGN_STATE,
        CampaignErrorCode.SEGMENT_TOO_NARROW,
        FederationErrorCode.NO_AGREEMENT,
        ErrorCode.RATE_LIMITED,
    )
    def post(self, request: Request, campaign_id: str) -> Response:
        campaign = access_campaign_by_id(self.partner, campaign_id, role="partner")
        return Response(CampaignOutput(campaign_propose(campaign=campaign, actor=self.actor)).data)


class CampaignShipmentApi(FederationEndpoint):
    required_scopes: ClassVar[dict[str, str]] = {"POST": WRITE}
    idempotency_required = True

    @extend_schema(
        request=None,
        responses={201: ShipmentOutput},
        operation_id="campaigns_shipment_export",
        summary="Export the shipment list",
        description="The members drawn (and, when invited first, confirmed) not yet in a "
        "list, for whoever ships under the agreement's `sampling` terms. The partner (the "
        "default) gets each under its pseudonymous id with only the shipping fields the "
        "agreement allows (name, postal code, address, phone), decrypted now, a provision "
        "recorded for each; the host's delivery staff (`host_ships: true`) get them by member "
        "number, and nothing leaves the host. A member who withdrew consent is left out. 403 "
        "`not_the_shipper` for the other company; 409 `campaign_state` unless selecting or "
        f"shipping. {KEYS}",
    )
    @raises(
        CampaignErrorCode.CAMPAIGN_STATE,
        CampaignErrorCode.NOT_THE_SHIPPER,
        FederationErrorCode.NO_AGREEMENT,
    )
    def post(self, request: Request, campaign_id: str) -> Response:
        campaign = access_campaign_by_id(self.partner, campaign_id)
        rows = campaign_shipment_export(campaign=campaign, actor=self.actor, by=self.partner)
        return Response(ShipmentOutput({"results": rows}).data, status=status.HTTP_201_CREATED)


def _refuse_slicing(query: QueryDict) -> None:
    # As the overlap's counts: results narrowed by a filter, or crossed with a second
    # breakdown, could be subtracted from the whole to reveal a withheld cell.
    narrowing = sorted(set(query) - {"breakdown", "format"})
    breakdowns = query.getlist("breakdown")
    if narrowing or len(breakdowns) > 1:
        raise ApplicationError(
            FederationErrorCode.DISCLOSURE_REFUSED,
            _(
                "Results take one breakdown and no filters: narrowed results could reveal a "
                "withheld cell."
            ),
        )


class ResultsFilters(serializers.Serializer):
    breakdown = NamedChoiceField(
        schema_name="CampaignResultsBreakdownEnum",
        choices=["", *BREAKDOWNS],
        required=False,
        allow_blank=True,
        help_text="Also per segment cell: by `age_band` or by `kind` (one at a time); empty "
        "or absent for the whole alone.",
    )


class CampaignResultsApi(FederationEndpoint):
    required_scopes: ClassVar[dict[str, str]] = {"GET": READ}

    @extend_schema(
        parameters=[ResultsFilters],
        responses=ResultsOutput,
        operation_id="campaigns_results",
        summary="Read a campaign's results",
        description="Aggregates only: per question, how many chose each rating or choice, "
        "and the free text scrubbed of e-mail addresses, phone numbers, postal codes and the "
        "member's name, only when enough members wrote some. With `breakdown`, the same per "
        "segment cell (`segments`): every cell of the breakdown is listed, a cell with too "
        "few respondents is withheld whole (as an overlap breakdown's cells are), and free "
        "text is never shown per cell. Never who answered what. 400 `disclosure_refused` for "
        f"any other parameter or a second breakdown. {BUDGET} 409 `campaign_state` before the "
        "survey opens.",
    )
    @raises(
        CampaignErrorCode.CAMPAIGN_STATE,
        FederationErrorCode.NO_AGREEMENT,
        FederationErrorCode.DISCLOSURE_REFUSED,
        ErrorCode.RATE_LIMITED,
    )
    def get(self, request: Request, campaign_id: str) -> Response:
        _refuse_slicing(request.query_params)
        filters = ResultsFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        campaign = access_campaign_by_id(self.partner, campaign_id, role="partner")
        breakdown = filters.validated_data.get("breakdown", "")
        results = campaign_results(campaign=campaign, actor=self.actor, breakdown=breakdown)
        return Response(ResultsOutput(results_view(results, breakdown)).data)
