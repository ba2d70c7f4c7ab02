"""A company disputing one of its settlement lines while the period is in review, and
acknowledging its issued statement."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from federation.kernel.api import WRITE, FederationEndpoint
from federation.settlement.access import access_line, access_statement
from federation.settlement.api.outputs import AcknowledgementOutput, DisputeOutput, dispute_view
from federation.settlement.errors import SettlementErrorCode
from federation.settlement.services import dispute_raise, statement_acknowledge
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
        examples=[
            OpenApiExample(
                "A redemption counted twice",
                value={"reason": "Till receipt TILL-7-0815 was refunded the same day."},
                request_only=True,
            )
        ],
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


class AcknowledgementInput(StrictInputSerializer):
    sha256 = serializers.RegexField(
        r"^[0-9a-f]{64}$", help_text="The SHA-256 of the statement you read."
    )


class SettlementAcknowledgementApi(FederationEndpoint):
    required_scopes = {"POST": WRITE}
    idempotency_required = True

    @extend_schema(
        request=AcknowledgementInput,
        examples=[
            OpenApiExample(
                "The statement read",
                value={
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
                },
                request_only=True,
            )
        ],
        responses={201: AcknowledgementOutput},
        operation_id="settlement_acknowledge",
        summary="Acknowledge your issued statement",
        description="Confirm your company's issued statement of the period by the SHA-256 you "
        "read (400 `validation_failed` for any other). Once only (409 `already_acknowledged`); "
        "before the statements are issued 409 `period_state`. A period you have no statement "
        "in, like a missing one, is a 404. An `Idempotency-Key` is required.",
    )
    @raises(
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION_FAILED,
        SettlementErrorCode.PERIOD_STATE,
        SettlementErrorCode.ALREADY_ACKNOWLEDGED,
    )
    def post(self, request: Request, period_id: str) -> Response:
        values = self.validated(AcknowledgementInput)
        statement = access_statement(self.partner, period_id)
        done = statement_acknowledge(statement, content_hash=values["sha256"], actor=self.actor)
        body = {"sha256": done.content_hash, "acknowledged_at": done.acknowledged_at}
        return Response(AcknowledgementOutput(body).data, status=status.HTTP_201_CREATED)
