"""Overlap endpoints: how many of my members are also another company's, in counts only, and
how much of my own base I let each company see that way.

The disclosure rule lives in ``federation.overlap.services``: counts only, one breakdown at a
time, small cells withheld. Here a company names the other by slug; one it has no agreement
with answers like a slug nobody has, as when no agreement is in force (403 ``no_agreement``).
"""

from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from federation.agreements.access import access_counterparty_by_slug
from federation.errors import FederationErrorCode
from federation.kernel.api import ADMIN, READ, FederationEndpoint, choice_field
from federation.overlap.access import access_other_by_slug
from federation.overlap.models import OverlapVisibility
from federation.overlap.selectors import VisibilitySetting, visibility_settings_of
from federation.overlap.services import BREAKDOWNS, overlap_counts, overlap_visibility_set
from partners.api.base import StrictInputSerializer
from partners.api.fields import NamedChoiceField
from partners.api.schema import raises
from partners.errors import ApplicationError, ErrorCode, validation_failed


def _refuse_slicing(query: QueryDict) -> None:
    # A count narrowed by a filter, or crossed with a second breakdown, could be subtracted from
    # the plain count to reveal a withheld cell, so such a question is refused rather than
    # answered as if the extra part were not there.
    narrowing = sorted(set(query) - {"other", "breakdown", "format"})  # format: how, not what
    if narrowing:
        raise ApplicationError(
            FederationErrorCode.DISCLOSURE_REFUSED,
            _(
                "Overlap counts take no filters (%(given)s): a narrowed count taken from the "
                "whole one could reveal a withheld cell. Ask for one breakdown instead."
            )
            % {"given": ", ".join(narrowing)},
        )
    if len(query.getlist("other")) > 1:
        raise validation_failed("other", _("Name one company at a time."))
    breakdowns = query.getlist("breakdown")
    if len(breakdowns) > 1 or any("," in breakdown for breakdown in breakdowns):
        raise ApplicationError(
            FederationErrorCode.DISCLOSURE_REFUSED,
            _("One breakdown at a time: crossing two could reveal a withheld cell."),
        )


class OverlapOutput(serializers.Serializer):
    class OverlapCellOutput(serializers.Serializer):
        segment = serializers.CharField(
            help_text="The segment of your members: `all` without a breakdown; an age band "
            "(`30-39`, `unknown`), a prefecture code or a kind otherwise."
        )
        count = serializers.IntegerField(
            allow_null=True, help_text="Null where withheld (below `min_cell`, or complementary)."
        )

    other = serializers.CharField(help_text="The other company's slug.")
    breakdown = serializers.CharField(help_text="The breakdown asked for; empty for the total.")
    min_cell = serializers.IntegerField(
        help_text="The agreement's threshold: smaller counts are withheld."
    )
    total = serializers.IntegerField(
        allow_null=True,
        help_text="Your members also in the other's base (both consenting); null when below "
        "`min_cell`, and then every cell is null too.",
    )
    cells = OverlapCellOutput(many=True)


class OverlapVisibilityOutput(serializers.Serializer):
    viewer = serializers.CharField(help_text="The slug of the company that may ask.")
    level = choice_field(
        OverlapVisibility.Level,
        help_text="`counts`: it may count how many of its members are also yours; `nothing` "
        "(the default): it may not ask at all.",
    )
    updated_at = serializers.DateTimeField(allow_null=True, help_text="Null: never set.")


class OverlapVisibilityListOutput(serializers.Serializer):
    results = OverlapVisibilityOutput(many=True)


def _visibility_view(visibility: OverlapVisibility | VisibilitySetting) -> dict[str, Any]:
    return {
        "viewer": visibility.viewer.slug,
        "level": visibility.level,
        "updated_at": visibility.updated_at,
    }


class OverlapApi(FederationEndpoint):
    """How many of your members are also another company's."""

    required_scopes = {"GET": READ}

    class OverlapFilters(serializers.Serializer):
        other = serializers.SlugField(
            max_length=50, help_text="The slug of the company whose base to compare with."
        )
        breakdown = NamedChoiceField(
            schema_name="OverlapBreakdownEnum",
            choices=["", *BREAKDOWNS],
            required=False,
            allow_blank=True,
            help_text="One segment of your members to break the count down by; empty or absent "
            "for the total alone.",
        )

    @extend_schema(
        parameters=[OverlapFilters],
        responses=OverlapOutput,
        operation_id="overlap_counts",
        summary="Count the overlap with another base",
        examples=[
            OpenApiExample(
                "By age band, two cells withheld",
                value={
                    "other": "sakura-shoji",
                    "breakdown": "age_band",
                    "min_cell": 50,
                    "total": 1287,
                    "cells": [
                        {"segment": "20-29", "count": 318},
                        {"segment": "30-39", "count": 412},
                        {"segment": "40-49", "count": 379},
                        {"segment": "50-59", "count": 161},
                        {"segment": "under-20", "count": None},
                        {"segment": "60-69", "count": None},
                    ],
                },
                response_only=True,
            )
        ],
        description="Counts only, never who: members of yours matched in the other's base (by "
        "e-mail or phone, through the blind indexes) who consented to `overlap_matching` on "
        "both sides. Every cell below the agreement's `min_cell` is withheld (null), and so is "
        "the total when it is below; when exactly one cell would be withheld, the smallest "
        "shown cell is withheld with it. Every number carries fresh noise (standard deviation "
        "about 5.6 by default) and what is withheld is decided on the noisy numbers, so that "
        "differences between questions reveal no single member; for the same reason a company "
        "may ask about another's base 20 times in 30 days (429 `rate_limited` beyond, with "
        "Retry-After). 403 `no_agreement` unless an active agreement lets the "
        "other company give you `overlap_matching` (also for a company you have no agreement "
        "with); 403 `permission_denied` unless it lets you see counts "
        "(`PUT /overlap/visibility/{your slug}` on its side). 400 `disclosure_refused` for any "
        "other parameter (a filter) or a second breakdown: narrowed counts could be subtracted "
        "to reveal a withheld cell. Every answered question is logged.",
    )
    @raises(
        FederationErrorCode.NO_AGREEMENT,
        ErrorCode.PERMISSION_DENIED,
        FederationErrorCode.DISCLOSURE_REFUSED,
        ErrorCode.RATE_LIMITED,
    )
    def get(self, request: Request) -> Response:
        _refuse_slicing(request.query_params)
        filters = self.OverlapFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        other = access_other_by_slug(self.partner, filters.validated_data["other"])
        breakdown = filters.validated_data.get("breakdown", "")
        result = overlap_counts(
            asker=self.partner, other=other, breakdown=breakdown, actor=self.actor
        )
        body = {
            "other": other.slug,
            "breakdown": result.breakdown,
            "min_cell": result.min_cell,
            "total": result.total,
            "cells": [
                {"segment": segment, "count": count} for segment, count in result.cells.items()
            ],
        }
        return Response(OverlapOutput(body).data)


class OverlapVisibilityListApi(FederationEndpoint):
    """What each company you share an agreement with may see of your base in overlap."""

    required_scopes = {"GET": READ}

    @extend_schema(
        responses=OverlapVisibilityListOutput,
        operation_id="overlap_visibility_list",
        summary="List who may count your base",
        description="One entry per company you share an agreement with (and any you set "
        "before), by slug; `nothing` where you never allowed anything.",
    )
    def get(self, request: Request) -> Response:
        results = [_visibility_view(setting) for setting in visibility_settings_of(self.partner)]
        return Response(OverlapVisibilityListOutput({"results": results}).data)


class OverlapVisibilityDetailApi(FederationEndpoint):
    """Decide how much of your base one company may see in overlap."""

    required_scopes = {"PUT": ADMIN}

    class OverlapVisibilityInput(StrictInputSerializer):
        level = choice_field(OverlapVisibility.Level)

    @extend_schema(
        request=OverlapVisibilityInput,
        responses=OverlapVisibilityOutput,
        operation_id="overlap_visibility_set",
        summary="Set who may count your base",
        examples=[
            OpenApiExample("Allow counts", value={"level": "counts"}, request_only=True),
            OpenApiExample("Stop at once", value={"level": "nothing"}, request_only=True),
        ],
        description="It decides what another company learns about your "
        "base. `counts` lets the viewer count its members that are also yours (under an "
        "agreement that lets you give it `overlap_matching`); `nothing` stops it at once. Only "
        "a company you share an agreement with; any other slug is 404.",
    )
    def put(self, request: Request, viewer_slug: str) -> Response:
        viewer = access_counterparty_by_slug(self.partner, viewer_slug)
        level = self.validated(self.OverlapVisibilityInput)["level"]
        visibility = overlap_visibility_set(
            owner=self.partner, viewer=viewer, level=level, actor=self.actor
        )
        return Response(OverlapVisibilityOutput(_visibility_view(visibility)).data)
