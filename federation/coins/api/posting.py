"""Coins posted by a company: earned for a purchase, taken back for a refund, redeemed."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from federation.coins.access import access_purchase
from federation.coins.api.base import KEYS, MEMBER_GATES, MEMBER_RULE, CoinPostingEndpoint
from federation.coins.api.inputs import PurchaseInput, RedemptionInput, RefundInput
from federation.coins.api.outputs import PostingOutput, RefundOutput, balances_view
from federation.coins.errors import CoinErrorCode
from federation.coins.links import balances_for
from federation.coins.services import (
    coins_earn_for_purchase,
    coins_redeem_at,
    coins_refund_order,
)
from partners.api.schema import raises
from partners.errors import ErrorCode
from partners.services import member_person


class CoinPurchaseApi(CoinPostingEndpoint):
    @extend_schema(
        request=PurchaseInput,
        responses={201: PostingOutput},
        operation_id="coins_purchase",
        summary="Earn coins for a purchase",
        description="Coins for a member's purchase at your company, at your program's rate "
        "per 100 yen in the agreement terms in force, floored to whole coins and capped at the "
        "Premiums and Representations Act's limit (20% of the price, 200 yen under 1,000 yen; "
        "`capped` says when). Pending for the program's return window, if it has one. An order "
        "id earns once (409 `duplicate_order`). A purchase too small to earn a coin answers "
        f"201 with `coins: 0`. {MEMBER_RULE} {KEYS}",
        examples=[
            OpenApiExample(
                "A purchase of 3,980 yen",
                value={"member_number": "M-0042", "amount_yen": "3980", "order_id": "ORD-1"},
                request_only=True,
            )
        ],
    )
    @raises(*MEMBER_GATES, CoinErrorCode.DUPLICATE_ORDER)
    def post(self, request: Request) -> Response:
        values = self.validated(PurchaseInput)
        member = self.member_named(values)
        earned, coins, capped = coins_earn_for_purchase(
            company=self.partner,
            member=member,
            amount_yen=values["amount_yen"],
            order_id=values["order_id"],
            occurred_at=values.get("occurred_at"),
            actor=self.actor,
        )
        body = {
            "transaction_id": earned.pk if earned else None,
            "coins": coins,
            "capped": capped,
            "balances": balances_view(balances_for(self.partner, member_person(member))),
        }
        return Response(PostingOutput(body).data, status=status.HTTP_201_CREATED)


class CoinRefundApi(CoinPostingEndpoint):
    @extend_schema(
        request=RefundInput,
        responses={201: RefundOutput},
        operation_id="coins_refund",
        summary="Take back the coins of a refunded purchase",
        description="The coins one of your orders earned, for its refunded part (`refund_yen` "
        "of the purchase; all that is not refunded yet when absent). Coins the member still "
        "has are taken back; coins already spent are recorded as the shortfall, which "
        "settlement charges to your company; a member never goes below zero. Another "
        "company's order, like an unknown one, is a 404; an order refunded in full is 409 "
        f"`nothing_to_refund`. {KEYS}",
        examples=[
            OpenApiExample(
                "Half of a 3,980 yen order",
                value={"order_id": "ORD-1", "refund_yen": "1990"},
                request_only=True,
            )
        ],
    )
    @raises(CoinErrorCode.NOTHING_TO_REFUND, ErrorCode.NOT_FOUND)
    def post(self, request: Request) -> Response:
        values = self.validated(RefundInput)
        earned = access_purchase(self.partner, values["order_id"])
        clawback = coins_refund_order(
            earned=earned, refund_yen=values.get("refund_yen"), actor=self.actor
        )
        body = {
            "requested": clawback.requested,
            "recovered": clawback.recovered,
            "shortfall": clawback.shortfall,
        }
        return Response(RefundOutput(body).data, status=status.HTTP_201_CREATED)


class CoinRedemptionApi(CoinPostingEndpoint):
    @extend_schema(
        request=RedemptionInput,
        responses={201: PostingOutput},
        operation_id="coins_redeem",
        summary="Redeem a member's coins",
        description="Spends coins of the member's at your company, all or nothing: the oldest "
        "lots first, of your company and of each company the member linked with yours (an "
        "agreement in force agreeing coin exchange between the two, and the member's consent "
        "to it, checked now); each other company is told by the `coins.redeemed` webhook and "
        "owes your company their value in settlement. More than the member can spend at your "
        "company now is 409 `insufficient_coins`, with `available` (what you may spend), even "
        "while the member holds more coins of companies not linked with yours; the balances "
        f"answered show only linked coins. {MEMBER_RULE} {KEYS}",
        examples=[
            OpenApiExample(
                "500 coins at the till",
                value={"member_number": "M-0042", "coins": 500, "reference": "TILL-7-0815"},
                request_only=True,
            )
        ],
    )
    @raises(*MEMBER_GATES, CoinErrorCode.INSUFFICIENT_COINS)
    def post(self, request: Request) -> Response:
        values = self.validated(RedemptionInput)
        member = self.member_named(values)
        spent = coins_redeem_at(
            company=self.partner,
            member=member,
            coins=values["coins"],
            reference=values["reference"],
            actor=self.actor,
        )
        body = {
            "transaction_id": spent.pk,
            "coins": values["coins"],
            "balances": balances_view(balances_for(self.partner, member_person(member))),
        }
        return Response(PostingOutput(body).data, status=status.HTTP_201_CREATED)
