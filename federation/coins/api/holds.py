"""Holds at a checkout: coins reserved, then captured (all or part) or voided; an uncaptured
hold expires by itself. And a correction: reversing a posting of one's own."""

from __future__ import annotations

from datetime import timedelta

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from federation.coins.access import access_hold, access_posting
from federation.coins.api.base import KEYS, MEMBER_GATES, MEMBER_RULE, CoinPostingEndpoint
from federation.coins.api.inputs import CaptureInput, HoldInput, NoInput
from federation.coins.api.outputs import HoldOutput, ReversalOutput, hold_view
from federation.coins.errors import CoinErrorCode
from federation.coins.services import coins_hold_at, coins_reverse, hold_capture, hold_void
from partners.api.schema import raises
from partners.errors import ErrorCode

DEFAULT_TIMEOUT = 900


class CoinHoldApi(CoinPostingEndpoint):
    @extend_schema(
        request=HoldInput,
        responses={201: HoldOutput},
        operation_id="coins_hold",
        summary="Hold coins for a checkout",
        description="Reserves coins of the member's for a checkout at your company: they leave "
        "the available balance at once (the oldest lots first) until you capture them, void "
        "the hold, or it expires uncaptured after `timeout_seconds` (then the coins go back "
        "and the `coins.hold_expired` webhook tells you). More than the member can spend is "
        f"409 `insufficient_coins`. {MEMBER_RULE} {KEYS}",
        examples=[
            OpenApiExample(
                "300 coins at an online checkout",
                value={"member_number": "M-0042", "coins": 300, "reference": "CART-9"},
                request_only=True,
            )
        ],
    )
    @raises(*MEMBER_GATES, CoinErrorCode.INSUFFICIENT_COINS)
    def post(self, request: Request) -> Response:
        values = self.validated(HoldInput)
        member = self.member_named(values)
        hold = coins_hold_at(
            company=self.partner,
            member=member,
            coins=values["coins"],
            timeout=timedelta(seconds=values.get("timeout_seconds", DEFAULT_TIMEOUT)),
            reference=values["reference"],
            actor=self.actor,
        )
        return Response(HoldOutput(hold_view(hold)).data, status=status.HTTP_201_CREATED)


class CoinHoldCaptureApi(CoinPostingEndpoint):
    @extend_schema(
        request=CaptureInput,
        responses={200: HoldOutput},
        operation_id="coins_hold_capture",
        summary="Capture a hold",
        description="Spends the held coins at your company (`coins`, at most those held; all "
        "by default) and gives the rest back to the member. A hold resolves once: captured, "
        "voided or past its expiry it is 409 `hold_resolved`. Another company's hold, like a "
        f"missing one, is a 404. {KEYS}",
        examples=[
            OpenApiExample("Part of the hold", value={"coins": 120}, request_only=True),
            OpenApiExample("All of it", value={}, request_only=True),
        ],
    )
    @raises(CoinErrorCode.HOLD_RESOLVED, CoinErrorCode.INSUFFICIENT_COINS, ErrorCode.NOT_FOUND)
    def post(self, request: Request, hold_id: str) -> Response:
        hold = access_hold(self.partner, hold_id)
        values = self.validated(CaptureInput)
        hold = hold_capture(hold, values.get("coins"), actor=self.actor)
        return Response(HoldOutput(hold_view(hold)).data)


class CoinHoldVoidApi(CoinPostingEndpoint):
    @extend_schema(
        request=NoInput,
        responses={200: HoldOutput},
        operation_id="coins_hold_void",
        summary="Void a hold",
        description="Gives every held coin back to the member, once (409 `hold_resolved` "
        f"after). Another company's hold, like a missing one, is a 404. {KEYS}",
        examples=[OpenApiExample("No body needed", value={}, request_only=True)],
    )
    @raises(CoinErrorCode.HOLD_RESOLVED, ErrorCode.NOT_FOUND)
    def post(self, request: Request, hold_id: str) -> Response:
        hold = access_hold(self.partner, hold_id)
        self.validated(NoInput)
        return Response(HoldOutput(hold_view(hold_void(hold, actor=self.actor))).data)


class CoinReversalApi(CoinPostingEndpoint):
    @extend_schema(
        request=NoInput,
        responses={201: ReversalOutput},
        operation_id="coins_reverse",
        summary="Reverse a posting",
        description="Corrects one of your postings by its mirror, never by an edit: a "
        "redemption (its coins go back to the lots they came from) or an earning whose coins "
        "are all unspent (a partly spent purchase is corrected by a refund). Once only: 409 "
        "`already_reversed`; anything else is 409 `not_reversible`; a posting of another "
        f"company's, like a missing one, is a 404. {KEYS}",
        examples=[OpenApiExample("No body needed", value={}, request_only=True)],
    )
    @raises(CoinErrorCode.ALREADY_REVERSED, CoinErrorCode.NOT_REVERSIBLE, ErrorCode.NOT_FOUND)
    def post(self, request: Request, transaction_id: str) -> Response:
        original = access_posting(self.partner, transaction_id)
        self.validated(NoInput)
        reversal = coins_reverse(original, actor=self.actor)
        body = {"reversal_id": reversal.pk, "reverses": original.pk}
        return Response(ReversalOutput(body).data, status=status.HTTP_201_CREATED)
