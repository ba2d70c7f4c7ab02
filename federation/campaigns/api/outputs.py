"""How a campaign, its reach and its results are shown to the API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from federation.campaigns.models import Campaign, SurveyQuestion
from federation.campaigns.services import QuestionResult, Reach, Results
from federation.kernel.api import choice_field
from partners.api.pagination import page_of


class ChoiceIO(serializers.Serializer):
    ja = serializers.CharField(max_length=200)
    en = serializers.CharField(max_length=200)


class QuestionOutput(serializers.Serializer):
    position = serializers.IntegerField(help_text="The key of its answer in `answers`.")
    kind = choice_field(SurveyQuestion.Kind)
    text_ja = serializers.CharField()
    text_en = serializers.CharField()
    choices = ChoiceIO(many=True, help_text="Answered by index from 0.")


class SegmentIO(serializers.Serializer):
    age_bands = serializers.ListField(child=serializers.CharField(), required=False)
    prefectures = serializers.ListField(child=serializers.CharField(), required=False)
    kinds = serializers.ListField(child=serializers.CharField(), required=False)
    active_within_days = serializers.IntegerField(required=False, allow_null=True)
    dormant_for_days = serializers.IntegerField(required=False, allow_null=True)


class CampaignOutput(serializers.Serializer):
    id = serializers.UUIDField()
    partner = serializers.CharField(source="partner.slug")
    host = serializers.CharField(source="host.slug")
    agreement_id = serializers.UUIDField()
    state = choice_field(Campaign.State)
    name_ja = serializers.CharField()
    name_en = serializers.CharField()
    description_ja = serializers.CharField()
    description_en = serializers.CharField()
    category = serializers.CharField()
    quantity = serializers.IntegerField()
    segment = SegmentIO()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    selection = choice_field(Campaign.Selection)
    coins_per_answer = serializers.IntegerField()
    reject_reason = serializers.CharField(help_text="Why the host rejected it; else empty.")
    selected = serializers.IntegerField(help_text="Members drawn (a count, never who).")
    seed = serializers.CharField(help_text="The seed of the draw, recorded at approval.")
    questions = QuestionOutput(many=True, source="questions.all")
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    landing_url = serializers.CharField(help_text="Where members get the product; or empty.")
    promoted_offer_id = serializers.UUIDField(
        allow_null=True, help_text="The host's referral offer of the product, once promoted."
    )


CampaignPageOutput = page_of(CampaignOutput)


class ReachOutput(serializers.Serializer):
    count = serializers.IntegerField(
        allow_null=True, help_text="Members the segment reaches now, with noise; null: withheld."
    )
    min_cell = serializers.IntegerField(help_text="Smaller counts are withheld.")


def reach_view(reach: Reach) -> dict[str, Any]:
    return {"count": reach.count, "min_cell": reach.min_cell}


class CellOutput(serializers.Serializer):
    value = serializers.CharField(help_text="A rating (1-5) or a choice's index.")
    count = serializers.IntegerField(allow_null=True, help_text="Null where withheld.")


class QuestionResultOutput(serializers.Serializer):
    position = serializers.IntegerField()
    kind = choice_field(SurveyQuestion.Kind)
    answered = serializers.IntegerField(allow_null=True, help_text="Null where withheld.")
    cells = CellOutput(many=True)
    texts = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="Free text, scrubbed of anything identifying, in no order; null when fewer "
        "than `min_cell` members wrote some.",
    )


class SegmentResultOutput(serializers.Serializer):
    segment = serializers.CharField(help_text="An age band or a member kind.")
    respondents = serializers.IntegerField(
        allow_null=True, help_text="Null: the whole cell is withheld."
    )
    questions = QuestionResultOutput(many=True, help_text="Empty when withheld; no free text.")


class ResultsOutput(serializers.Serializer):
    respondents = serializers.IntegerField(allow_null=True, help_text="Null where withheld.")
    selected = serializers.IntegerField()
    min_cell = serializers.IntegerField()
    questions = QuestionResultOutput(many=True)
    breakdown = serializers.CharField(help_text="The breakdown asked for; empty for none.")
    segments = SegmentResultOutput(many=True, help_text="Per cell of the breakdown, if any.")


def _questions_view(questions: list[QuestionResult]) -> list[dict[str, Any]]:
    return [
        {
            "position": item.question.position,
            "kind": item.question.kind,
            "answered": item.answered,
            "cells": [{"value": k, "count": v} for k, v in item.cells.items()],
            "texts": item.texts,
        }
        for item in questions
    ]


def results_view(results: Results, breakdown: str = "") -> dict[str, Any]:
    return {
        "respondents": results.respondents,
        "selected": results.selected,
        "min_cell": results.min_cell,
        "questions": _questions_view(results.questions),
        "breakdown": breakdown,
        "segments": [
            {
                "segment": cell.segment,
                "respondents": cell.respondents,
                "questions": _questions_view(cell.questions),
            }
            for cell in results.segments
        ],
    }


class ShipmentRowOutput(serializers.Serializer):
    member = serializers.CharField(
        help_text="The partner's pseudonymous id for the member; the host's member number "
        "when the host ships."
    )
    name = serializers.CharField(allow_null=True, required=False)
    postal_code = serializers.CharField(allow_null=True, required=False)
    address = serializers.CharField(allow_null=True, required=False)
    phone = serializers.CharField(allow_null=True, required=False)


class ShipmentOutput(serializers.Serializer):
    results = ShipmentRowOutput(many=True)
