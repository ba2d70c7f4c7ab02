"""A member's coins as a company may read them: balances with the lots left, and history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django_filters as df
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from consent.errors import ConsentErrorCode
from federation.coins.access import access_coin_member
from federation.coins.api.outputs import (
    BalanceOutput,
    ExpiringOutput,
    HistoryEntryOutput,
    LiabilityOutput,
    balances_view,
    entry_view,
    expiring_view,
    lot_view,
)
from federation.coins.links import balances_for, coin_links
from federation.coins.selectors import (
    history_of,
    liability_of,
    lots_left,
    members_expiring,
)
from federation.coins.services import program_for
from federation.errors import FederationErrorCode
from federation.kernel.api import READ, FederationEndpoint
from partners.api.filters import list_schema
from partners.api.pagination import CappedCursorPagination
from partners.api.schema import raises
from partners.errors import ErrorCode, validation_failed
from partners.models import MemberAccount
from partners.services import member_person

READ_RULE = (
    "Name the member by exactly one of `member_number` (your own) or `member` (the "
    "pseudonymous id you were given for another company's member): anyone else is a 404, and "
    "another company's member is readable only under an agreement in force for coin exchange "
    "(403 `no_agreement`) and while the member consents to it (403 `consent_required`). "
    "You see only the coins of the companies the member linked with yours: your own, and "
    "those of each company whose agreement in force with yours agrees coin exchange while the "
    "member consents to coin exchange between the two; checked at every request."
)
MEMBER_PARAMETERS = [
    OpenApiParameter("member_number", str, description="Your own member number."),
    OpenApiParameter("member", str, description="Or: the pseudonymous id you were given."),
]


class HistoryPagination(CappedCursorPagination):
    ordering = "-id"


def _member(endpoint: FederationEndpoint, request: Request) -> MemberAccount:
    params = request.query_params
    member = access_coin_member(
        endpoint.partner, member_number=params.get("member_number"), member=params.get("member")
    )
    if member.partner_id != endpoint.partner.pk:
        program_for(endpoint.partner, member)  # the agreement and the consent, right now
    return member


class CoinBalanceApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        parameters=MEMBER_PARAMETERS,
        responses=BalanceOutput,
        operation_id="coins_balance",
        summary="A member's coin balances",
        description="The coins the member can spend now, those pending a return window and "
        f"those held for a checkout, with each lot left and its own expiry. {READ_RULE}",
    )
    @raises(
        FederationErrorCode.NO_AGREEMENT,
        ConsentErrorCode.CONSENT_REQUIRED,
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION_FAILED,
    )
    def get(self, request: Request) -> Response:
        person = member_person(_member(self, request))
        links = coin_links(self.partner, person)
        body = {
            "balances": balances_view(balances_for(self.partner, person, links)),
            "lots": [lot_view(lot) for lot in lots_left(person, links.linked)[:200]],
        }
        return Response(BalanceOutput(body).data)


class CoinHistoryApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    class HistoryFilters(df.FilterSet):
        member_number = df.CharFilter(method="named", label="Your own member number.")
        member = df.CharFilter(method="named", label="Or: the pseudonymous id you were given.")

        def named(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
            return queryset  # names the member; the view reads it

    @list_schema(
        HistoryFilters,
        HistoryEntryOutput,
        operation_id="coins_history",
        summary="A member's coin history",
        description="Every movement of the member's coins, newest first: why (`kind`), which "
        "of their balances, how many, the balance after, and the company that posted it; your "
        "own reference on your own postings only. While some of the member's coins are of "
        "companies not linked with yours, only the entries that name no such company and move "
        "none of its coins are shown, without the balance after (`null`), and never a "
        f"release of pending coins nor another company's capture of a hold. {READ_RULE}",
    )
    @raises(
        FederationErrorCode.NO_AGREEMENT,
        ConsentErrorCode.CONSENT_REQUIRED,
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION_FAILED,
    )
    def get(self, request: Request) -> Response:
        person = member_person(_member(self, request))
        links = coin_links(self.partner, person, history=True)
        entries = (
            history_of(person)
            if links.complete
            else history_of(person, company=self.partner, linked=links.linked)
        )
        return self.filtered_page(
            self.HistoryFilters,
            entries,
            HistoryEntryOutput,
            pagination=HistoryPagination,
            present=lambda entry: entry_view(entry, self.partner, whole=links.complete),
        )


class CoinLiabilityApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        responses=LiabilityOutput,
        operation_id="coins_liability",
        summary="Your company's coins: issued and outstanding",
        description="The coins your company funded, net of those taken back or reversed, and "
        "where they are: unspent (in members' hands: available, pending or held), redeemed "
        "(at any company) and expired (your breakage). `issued = unspent + redeemed + "
        "expired`, from the ledger and its lots.",
    )
    def get(self, request: Request) -> Response:
        figures = liability_of(self.partner)
        body = {
            "issued": figures.issued,
            "unspent": figures.unspent,
            "redeemed": figures.redeemed,
            "expired": figures.expired,
        }
        return Response(LiabilityOutput(body).data)


# The reminder windows a company may ask about, in days.
WINDOWS = (7, 14, 30, 60, 90, 180, 365)


class ExpiringPagination(CappedCursorPagination):
    ordering = "member_number"


class CoinExpiringApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    class ExpiringFilters(df.FilterSet):
        days = df.ChoiceFilter(
            choices=[(str(days), str(days)) for days in WINDOWS],
            method="window",
            label="Coins that expire within this many days (default 30).",
        )

        def window(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
            return queryset  # the window; the view reads it

    @list_schema(
        ExpiringFilters,
        ExpiringOutput,
        operation_id="coins_expiring",
        summary="Your members whose coins expire soon",
        description="Your own members with coins that expire within `days` (7, 14, 30, 60, 90, "
        "180 or 365; default 30), with how many and when the first expires, by member number: "
        "whom to remind.",
    )
    @raises(ErrorCode.VALIDATION_FAILED)
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("days", "30")
        if raw not in {str(days) for days in WINDOWS}:
            raise validation_failed(
                "days", _("One of: %(choices)s.") % {"choices": ", ".join(map(str, WINDOWS))}
            )
        days = int(raw)
        return self.filtered_page(
            self.ExpiringFilters,
            members_expiring(self.partner, within=timedelta(days=days)),
            ExpiringOutput,
            pagination=ExpiringPagination,
            present=expiring_view,
        )
