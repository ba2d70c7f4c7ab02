"""Conversions as the destination reports them, and their refunds."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from consent.errors import ConsentErrorCode
from federation.errors import FederationErrorCode
from federation.kernel.api import WRITE, FederationEndpoint
from federation.referrals.access import access_conversion_by_order
from federation.referrals.api.inputs import ReferralConversionInput, ReferralRefundInput
from federation.referrals.api.outputs import ReferralConversionOutput, conversion_out
from federation.referrals.errors import ReferralErrorCode
from federation.referrals.models import ReferralFee
from federation.referrals.services import (
    Referral,
    referral_conversion_refund,
    referral_conversion_report,
)
from partners.access import access_member_by_number
from partners.api.schema import raises
from partners.errors import ErrorCode

KEYS = "An `Idempotency-Key` is required: a retry replays the first answer, a refusal included."


def _fee(conversion_id: int) -> ReferralFee | None:
    return (
        ReferralFee.objects.filter(conversion_id=conversion_id, kind=ReferralFee.Kind.FEE)
        .exclude(state=ReferralFee.State.REVERSED)
        .first()
    )


class ReferralConversionApi(FederationEndpoint):
    required_scopes: ClassVar[dict[str, str]] = {"POST": WRITE}
    idempotency_required = True

    @extend_schema(
        request=ReferralConversionInput,
        responses={201: ReferralConversionOutput},
        operation_id="referrals_conversions_create",
        summary="Report a referred lead or sale",
        description="A `lead` (the member joined your programme) or a `sale` (their first "
        "purchase) of one of your own members (`member_number`), referred to your company: "
        "name the referral by the `tokens` your landing page received (`sanpo_ref`) or by the "
        "`code` the member typed, or, for a member who joined your programme through mutual "
        "enrollment, by `enrolled: true` and your new member number alone (422 `not_enrolled` "
        "without a live enrollment; the last click on the links the source gave that member "
        "wins, within the window). With tokens, the last click before the conversion within its "
        "offer's attribution window wins (422 `outside_window` when all are older, 422 "
        "`no_referral_click` when never clicked); a typed code counts while its offer is valid "
        "(422 `offer_not_valid`). Tokens or a code of another destination's offer are a 404, "
        "like unknown ones. The member must consent to `referral_tracking` with the source, "
        "and the recommending member with you (403 `consent_required`; nothing is recorded), "
        "under an agreement still in force (403 `no_agreement`). An order id converts once "
        "(409 `conversion_exists`). A conversion that trips a fraud rule (self-referral, "
        "before the click, too many from one link or device, the member's second for this "
        "offer and kind) is `flagged` for the alliance managers instead of earning its fee. "
        f"Both companies hear `referrals.conversion_recorded` or `_flagged`. {KEYS}",
        examples=[
            OpenApiExample(
                "A first booking through a link",
                value={
                    "kind": "sale",
                    "member_number": "T-1001",
                    "order_id": "BOOK-778",
                    "amount_yen": "48000",
                    "tokens": ["q3V9m2kX0aYbT7sWc1LrE5uN8hJ4dF6g"],
                },
                request_only=True,
            ),
            OpenApiExample(
                "A member who came through mutual enrollment",
                value={
                    "kind": "lead",
                    "member_number": "T-1002",
                    "order_id": "JOIN-1002",
                    "enrolled": True,
                },
                request_only=True,
            ),
        ],
    )
    @raises(
        ErrorCode.NOT_FOUND,
        ReferralErrorCode.CONVERSION_EXISTS,
        ReferralErrorCode.NOT_ENROLLED,
        ReferralErrorCode.OUTSIDE_WINDOW,
        ReferralErrorCode.NO_REFERRAL_CLICK,
        ReferralErrorCode.OFFER_NOT_VALID,
        FederationErrorCode.NO_AGREEMENT,
        ConsentErrorCode.CONSENT_REQUIRED,
    )
    def post(self, request: Request) -> Response:
        values = self.validated(ReferralConversionInput)
        member = access_member_by_number(self.partner, values["member_number"])
        conversion = referral_conversion_report(
            destination=self.partner,
            member=member,
            kind=values["kind"],
            order_id=values["order_id"],
            amount_yen=values.get("amount_yen") or Decimal(0),
            occurred_at=values.get("occurred_at") or timezone.now(),
            referral=Referral(
                tokens=tuple(values.get("tokens", ())),
                code=values.get("code"),
                enrolled=values["enrolled"],
            ),
            actor=self.actor,
        )
        body = conversion_out(conversion, _fee(conversion.pk))
        return Response(ReferralConversionOutput(body).data, status=status.HTTP_201_CREATED)


class ReferralRefundApi(FederationEndpoint):
    required_scopes: ClassVar[dict[str, str]] = {"POST": WRITE}
    idempotency_required = True

    @extend_schema(
        request=ReferralRefundInput,
        examples=[
            OpenApiExample(
                "An order returned", value={"order_id": "MF-2026-0042"}, request_only=True
            )
        ],
        responses={200: ReferralConversionOutput},
        operation_id="referrals_refunds_create",
        summary="Report the refund of a referred order",
        description="The order of a conversion you reported was refunded: its fee is "
        "reversed while still pending; once locked or settled, a clawback (a negative fee) "
        "goes into the next settlement instead. Another company's order, like an unknown one, "
        f"is a 404; an order refunded already is 409 `already_refunded`. {KEYS}",
    )
    @raises(ErrorCode.NOT_FOUND, ReferralErrorCode.ALREADY_REFUNDED)
    def post(self, request: Request) -> Response:
        values = self.validated(ReferralRefundInput)
        conversion = access_conversion_by_order(self.partner, values["order_id"])
        refunded = referral_conversion_refund(
            conversion=conversion, reason=values.get("reason") or "refund", actor=self.actor
        )
        return Response(ReferralConversionOutput(conversion_out(refunded, None)).data)
