"""The host recording a company's payment of its issued statement's net amount (what the
alliance console's payment action does). Only the period's host: any other company finds no
such period (404), like the campaign host's doors."""

from __future__ import annotations

from typing import ClassVar

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from federation.kernel.api import ADMIN, FederationEndpoint, choice_field
from federation.settlement.access import access_period_as_host, access_statement_as_host
from federation.settlement.errors import SettlementErrorCode
from federation.settlement.models import SettlementPeriod
from federation.settlement.services import payment_record
from partners.api.base import StrictInputSerializer
from partners.api.schema import raises
from partners.errors import ErrorCode


class PaymentInput(StrictInputSerializer):
    company = serializers.RegexField(
        r"^[a-z0-9][a-z0-9-]{0,49}$",
        help_text="The slug of the company whose statement was paid.",
    )
    reference = serializers.RegexField(
        # Printable: no control character, and not starting with what DRF would strip as
        # whitespace (Python's, wider than JSON Schema's \s), so the pattern says it all.
        r"^[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
        r"[^\x00-\x1f\x7f-\x9f]{0,99}$",
        help_text="The bank's reference of the transfer (to or from the host).",
    )


class PaymentOutput(serializers.Serializer):
    company = serializers.CharField()
    amount_yen = serializers.CharField(help_text="The statement's net amount, whole yen.")
    direction = serializers.ChoiceField(
        choices=["to_company", "to_host"],
        help_text="to_company: the host paid the company; to_host: the company paid the host.",
    )
    reference = serializers.CharField()
    recorded_at = serializers.DateTimeField()
    period_state = choice_field(SettlementPeriod.State)


class SettlementPaymentApi(FederationEndpoint):
    required_scopes: ClassVar[dict[str, str]] = {"POST": ADMIN}
    idempotency_required = True

    @extend_schema(
        request=PaymentInput,
        examples=[
            OpenApiExample(
                "A bank transfer received",
                value={"company": "midori-fitness", "reference": "MUFG-20260205-0042"},
                request_only=True,
            )
        ],
        responses={201: PaymentOutput},
        operation_id="settlement_payment_record",
        summary="Record a company's payment of its statement",
        description="The period's host records that a company's issued statement was settled: "
        "its net amount paid by the host to the company, or by the company to the host, with "
        "the bank's reference. Once every statement with a net amount is paid, the period is "
        "paid and its companies hear `settlement.paid`. 409 `period_state` before the "
        "statements are issued, for a statement already paid or with nothing to pay. A company "
        "without a statement in the period is a 404. Only the period's host: any other company "
        "finds no such period (404). An `Idempotency-Key` is required: a retry replays the "
        "first answer.",
    )
    @raises(ErrorCode.NOT_FOUND, ErrorCode.VALIDATION_FAILED, SettlementErrorCode.PERIOD_STATE)
    def post(self, request: Request, period_id: str) -> Response:
        values = self.validated(PaymentInput)
        period = access_period_as_host(self.partner, period_id)
        statement = access_statement_as_host(period, values["company"])
        payment = payment_record(statement, reference=values["reference"], actor=self.actor)
        body = {
            "company": statement.partner.slug,
            "amount_yen": str(payment.amount_yen),
            "direction": "to_company" if statement.net_yen > 0 else "to_host",
            "reference": payment.reference,
            "recorded_at": payment.recorded_at,
            "period_state": SettlementPeriod.objects.get(pk=period.pk).state,
        }
        return Response(PaymentOutput(body).data, status=status.HTTP_201_CREATED)
