"""Referral offers and their links: a source creates offers under an agreement in force and
hands out links (and codes) for its members or campaigns; both companies list the offers."""

from __future__ import annotations

from typing import Any

import django_filters as df
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from consent.errors import ConsentErrorCode
from federation.agreements.access import access_counterparty_by_slug
from federation.errors import FederationErrorCode
from federation.kernel.api import READ, WRITE, FederationEndpoint
from federation.referrals.access import access_source_offer
from federation.referrals.api.inputs import ReferralLinkInput, ReferralOfferInput
from federation.referrals.api.outputs import (
    ReferralLinkOutput,
    ReferralOfferOutput,
    link_view,
    offer_view,
)
from federation.referrals.errors import ReferralErrorCode
from federation.referrals.selectors import links_of, offers_of
from federation.referrals.services import (
    no_referral_agreement,
    referral_link_create,
    referral_offer_create,
)
from partners.access import access_member_by_number
from partners.api.filters import list_schema
from partners.api.pagination import CappedCursorPagination
from partners.api.schema import raises

FEES = ("lead_fee_yen", "sale_fee_yen", "sale_fee_percent", "attribution_days")
TEXTS = ("title_ja", "title_en", "description_ja", "description_en")


class OfferPagination(CappedCursorPagination):
    ordering = "-created_at"


class LinkPagination(CappedCursorPagination):
    ordering = "-id"


class NoFilters(df.FilterSet):
    pass


class ReferralOfferListApi(FederationEndpoint):
    required_scopes = {"GET": READ, "POST": WRITE}

    @list_schema(
        NoFilters,
        ReferralOfferOutput,
        operation_id="referrals_offers_list",
        summary="List referral offers",
        description="The referral offers your company is the source (it refers customers and "
        "earns the fee) or the destination (its product, it pays the fee) of, newest first.",
    )
    def get(self, request: Request) -> Response:
        return self.filtered_page(
            NoFilters,
            offers_of(self.partner),
            ReferralOfferOutput,
            pagination=OfferPagination,
            present=lambda offer: offer_view(offer, self.partner),
        )

    @extend_schema(
        request=ReferralOfferInput,
        responses={201: ReferralOfferOutput},
        operation_id="referrals_offers_create",
        summary="Create a referral offer",
        description="An offer of the destination's product that your company recommends: an "
        "agreement in force must let your company refer customers to the destination (a "
        "`referral_tracking` data flow from you to it, and referral terms; else 403 "
        "`no_agreement`, also for a company you have no agreement with). Fees and the "
        "attribution window default to the terms' and may only narrow them (422 "
        "`fee_not_allowed`): a fixed sale fee where the terms fix one, a percentage where they "
        "set one, a lead fee only where they have one. `landing_url` must be https without "
        "credentials: clicks are only ever sent there.",
        examples=[
            OpenApiExample(
                "A travel offer at 3% of the first booking",
                value={
                    "destination": "tsubame-travel",
                    "title_ja": "秋の温泉旅行",
                    "title_en": "Autumn hot-spring trips",
                    "landing_url": "https://travel.example/autumn",
                    "sale_fee_percent": "2.5",
                },
                request_only=True,
            )
        ],
    )
    @raises(FederationErrorCode.NO_AGREEMENT, ReferralErrorCode.FEE_NOT_ALLOWED)
    def post(self, request: Request) -> Response:
        values = self.validated(ReferralOfferInput)
        destination = access_counterparty_by_slug(
            self.partner, values["destination"], missing=no_referral_agreement(self.partner)
        )
        offer = referral_offer_create(
            source=self.partner,
            destination=destination,
            texts={key: values.get(key, "") for key in TEXTS},
            landing_url=values["landing_url"],
            fees={key: values[key] for key in FEES if key in values},
            valid_from=values.get("valid_from"),
            valid_until=values.get("valid_until"),
            member_coins=values.get("member_coins", 0),
            member_coins_on=values.get("member_coins_on", "sale"),
            actor=self.actor,
        )
        return Response(
            ReferralOfferOutput(offer_view(offer, self.partner)).data,
            status=status.HTTP_201_CREATED,
        )


class ReferralLinkListApi(FederationEndpoint):
    required_scopes = {"GET": READ, "POST": WRITE}

    @list_schema(
        NoFilters,
        ReferralLinkOutput,
        operation_id="referrals_links_list",
        summary="List the links of your offer",
        description="The links and codes your company handed out for one of its offers, "
        "newest first. Only the source sees them: for anyone else, the destination included, "
        "the offer is a 404.",
    )
    def get(self, request: Request, offer_id: str) -> Response:
        offer = access_source_offer(self.partner, offer_id)
        return self.filtered_page(
            NoFilters,
            links_of(offer),
            ReferralLinkOutput,
            pagination=LinkPagination,
            present=lambda link: link_view(link, request),
        )

    @extend_schema(
        request=ReferralLinkInput,
        responses={201: ReferralLinkOutput},
        operation_id="referrals_links_create",
        summary="Create a referral link and code",
        description="A link (`url`, with an opaque token) and a short code for one of your "
        "offers, for a member of yours who recommends it (`member_number`; they must consent "
        "to `referral_tracking` with the destination, else 403 `consent_required`) or for a "
        "`campaign`. 403 `no_agreement` once the terms no longer allow the offer, 422 "
        "`offer_not_valid` once it has run out; another company's offer is a 404.",
        examples=[
            OpenApiExample(
                "A delivery driver's flyers",
                value={"member_number": "M-0042", "channel": "flyer: Setagaya route"},
                request_only=True,
            )
        ],
    )
    @raises(
        FederationErrorCode.NO_AGREEMENT,
        ConsentErrorCode.CONSENT_REQUIRED,
        ReferralErrorCode.OFFER_NOT_VALID,
    )
    def post(self, request: Request, offer_id: str) -> Response:
        offer = access_source_offer(self.partner, offer_id)
        values: dict[str, Any] = self.validated(ReferralLinkInput)
        member = None
        if "member_number" in values:
            member = access_member_by_number(self.partner, values["member_number"])
        link = referral_link_create(
            offer=offer,
            member=member,
            campaign=values.get("campaign", ""),
            channel=values.get("channel", ""),
            actor=self.actor,
        )
        return Response(
            ReferralLinkOutput(link_view(link, request)).data, status=status.HTTP_201_CREATED
        )
