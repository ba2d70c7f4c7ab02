"""What the referral endpoints answer: each company sees an offer in its own role, its own
links (as the source), and its own funnel; never another company's members or tokens."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers
from rest_framework.request import Request

from federation.referrals.codes import display_code
from federation.referrals.models import ReferralConversion, ReferralLink, ReferralOffer
from federation.referrals.selectors import FunnelRow
from partners.models import Partner


class ReferralOfferOutput(serializers.Serializer):
    offer_id = serializers.UUIDField()
    role = serializers.CharField(help_text="`source` (you refer) or `destination` (you pay).")
    source = serializers.CharField(  # type: ignore[assignment]
        help_text="The referring company's slug."
    )
    destination = serializers.CharField(help_text="The company whose product it is.")
    agreement_id = serializers.UUIDField()
    title_ja = serializers.CharField()
    title_en = serializers.CharField()
    description_ja = serializers.CharField(allow_blank=True)
    description_en = serializers.CharField(allow_blank=True)
    landing_url = serializers.CharField()
    lead_fee_yen = serializers.CharField(allow_null=True)
    sale_fee_yen = serializers.CharField(allow_null=True)
    sale_fee_percent = serializers.CharField(allow_null=True)
    attribution_days = serializers.IntegerField()
    member_coins = serializers.IntegerField(help_text="Coins for the referred member.")
    member_coins_on = serializers.CharField(help_text="`sale` or `lead`: what pays them.")
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()
    created_at = serializers.DateTimeField()


def _text(value: Any) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def offer_view(offer: ReferralOffer, caller: Partner) -> dict[str, Any]:
    return {
        "offer_id": offer.pk,
        "role": "source" if offer.source_id == caller.pk else "destination",
        "source": offer.source.slug,
        "destination": offer.destination.slug,
        "agreement_id": offer.agreement_id,
        "title_ja": offer.title_ja,
        "title_en": offer.title_en,
        "description_ja": offer.description_ja,
        "description_en": offer.description_en,
        "landing_url": offer.landing_url,
        "lead_fee_yen": _text(offer.lead_fee_yen),
        "sale_fee_yen": _text(offer.sale_fee_yen),
        "sale_fee_percent": _text(offer.sale_fee_percent),
        "attribution_days": offer.attribution_days,
        "member_coins": offer.member_coins,
        "member_coins_on": offer.member_coins_on,
        "valid_from": offer.valid_from,
        "valid_until": offer.valid_until,
        "created_at": offer.created_at,
    }


class ReferralLinkOutput(serializers.Serializer):
    link_id = serializers.IntegerField()
    offer_id = serializers.UUIDField()
    url = serializers.CharField(help_text="The link to hand out: it records the click.")
    token = serializers.CharField(help_text="Its opaque token (no member data in it).")
    code = serializers.CharField(help_text="The code to print or tell, e.g. `K7QM-4RT9X`.")
    member_number = serializers.CharField(
        allow_null=True, help_text="Your member who recommends it."
    )
    campaign = serializers.CharField(allow_blank=True)
    channel = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


def link_view(link: ReferralLink, request: Request) -> dict[str, Any]:
    return {
        "link_id": link.pk,
        "offer_id": link.offer_id,
        "url": request.build_absolute_uri(reverse("referral-click", args=[link.token])),
        "token": link.token,
        "code": display_code(link.code),
        "member_number": link.member.member_number if link.member is not None else None,
        "campaign": link.campaign,
        "channel": link.channel,
        "created_at": link.created_at,
    }


class ReferralConversionOutput(serializers.Serializer):
    conversion_id = serializers.IntegerField()
    offer_id = serializers.UUIDField()
    kind = serializers.CharField()
    state = serializers.CharField(
        help_text="`recorded` (earns its fee), `flagged` (held for review), `refunded`, ..."
    )
    occurred_at = serializers.DateTimeField()
    fee_yen = serializers.CharField(
        allow_null=True, help_text="The fee it earns the source; null while flagged or none."
    )
    member_coins = serializers.IntegerField(
        help_text="Coins the offer paid the referred member for it (0: none)."
    )


def conversion_out(conversion: ReferralConversion, fee: Any) -> dict[str, Any]:
    return {
        "conversion_id": conversion.pk,
        "offer_id": conversion.offer_id,
        "kind": conversion.kind,
        "state": conversion.state,
        "occurred_at": conversion.occurred_at,
        "fee_yen": str(fee.amount_yen) if fee is not None else None,
        "member_coins": conversion.offer.member_coins if conversion.member_coins_earned_id else 0,
    }


class ReferralFunnelRowOutput(serializers.Serializer):
    offer_id = serializers.UUIDField()
    role = serializers.CharField(help_text="`source`: fees you earn; `destination`: you owe.")
    day = serializers.DateField(help_text="The day in Japan.")
    clicks = serializers.IntegerField()
    conversions = serializers.IntegerField(
        help_text="Recorded or approved, and refunded ones that counted before the refund."
    )
    flagged = serializers.IntegerField(help_text="Held for review.")
    rejected = serializers.IntegerField()
    refunded = serializers.IntegerField(
        help_text="Refunded, whether they had counted or were refunded while flagged."
    )
    fees_yen = serializers.CharField(help_text="Fees net of clawbacks, reversed ones left out.")


class ReferralFunnelOutput(serializers.Serializer):
    rows = ReferralFunnelRowOutput(many=True)


def funnel_row_view(row: FunnelRow) -> dict[str, Any]:
    return {
        "offer_id": row.offer_id,
        "role": row.role,
        "day": row.day,
        "clicks": row.clicks,
        "conversions": row.conversions,
        "flagged": row.flagged,
        "rejected": row.rejected,
        "refunded": row.refunded,
        "fees_yen": str(row.fees_yen),
    }
