"""A company disputing one of its settlement lines while the period is in review."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from federation.kernel.api import WRITE, FederationEndpoint
from federation.settlement.access import access_line
from federation.settlement.api.outputs import DisputeOutput, dispute_view
from federation.settlement.errors import SettlementErrorCode
from federation.settlement.services import dispute_raise
from partners.api.base import StrictInputSerializer
from partners.api.schema import raises
from partners.errors import ErrorCode


class DisputeInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the line is wrong.")


class SettlementDisputeApi(FederationEndpoint):
    required_scopes = {"POST": WRITE}
    idempotency_required = True

    @extend_schema(
        request=DisputeInput,
        responses={201: DisputeOutput},
        operation_id="settlement_dispute",
        summary="Dispute a settlement line",
        description="Dispute a line your company owes or is owed, with your reason, while its "
        "period is in review (409 `period_state` otherwise). The host resolves it: accepted, "
        "the correction becomes an adjustment line in the next open period naming this line; "
        "the period's figures themselves never change. One open dispute of your company per "
        "line (409 `already_disputed`). Another company's line, like a missing one, is a 404. "
        "An `Idempotency-Key` is required: a retry replays the first answer.",
    )
    @raises(
        ErrorCode.NOT_FOUND,
        SettlementErrorCode.PERIOD_STATE,
        SettlementErrorCode.ALREADY_DISPUTED,
    )
    def post(self, request: Request, line_id: str) -> Response:
        values = self.validated(DisputeInput)
        line = access_line(self.partner, line_id)
        dispute = dispute_raise(
            line, partner=self.partner, reason=values["reason"], actor=self.actor
        )
        return Response(DisputeOutput(dispute_view(dispute)).data, status=status.HTTP_201_CREATED)
