"""What the referral endpoints take: yen as whole-yen strings, percentages as decimal
strings (never binary floating point), and the referral by its tokens or its typed code."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from federation.kernel.api import choice_field
from federation.referrals.models import ReferralConversion
from partners.api.base import StrictInputSerializer

MAX_YEN = Decimal(999_999_999_999)
_WHOLE_YEN = re.compile(r"0|[1-9][0-9]{0,11}")
_PERCENT = re.compile(r"(100(\.0{1,4})?|[0-9]{1,2}(\.[0-9]{1,4})?)")
MAX_TOKENS = 10


@extend_schema_field({"type": "string", "pattern": r"^(0|[1-9][0-9]{0,11})$", "example": "500"})
class YenField(serializers.Field):
    """Whole yen as a string of digits ("500"), 0 to 999,999,999,999: no sign, no leading
    zero, no fraction, no exponent."""

    default_error_messages = {"invalid": 'Whole yen as a string of digits, e.g. "500".'}

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str) or not _WHOLE_YEN.fullmatch(data):
            self.fail("invalid")
        return Decimal(data)

    def to_representation(self, value: Any) -> str:
        return str(value)


@extend_schema_field(
    {"type": "string", "pattern": f"^{_PERCENT.pattern}$", "example": "2.5", "maxLength": 8}
)
class PercentField(serializers.Field):
    """A percentage as a decimal string, 0 to 100 with at most four decimals ("2.5")."""

    default_error_messages = {"invalid": 'A percentage from 0 to 100 as a string, e.g. "2.5".'}

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str) or not _PERCENT.fullmatch(data):
            self.fail("invalid")
        return Decimal(data)


@extend_schema_field(
    {
        "type": "string",
        # The code's alphabet in either case, with the separators people type (spaces,
        # hyphens, the Japanese long-vowel mark); its check character is checked on receipt.
        "pattern": "^[2-9A-HJKMNP-TV-Za-hjkmnp-tv-z \\-_\u2010\uff0d\u30fc]{9,20}$",
        "example": "K7QM-4RT9X",
        "maxLength": 20,
    }
)
class CodeField(serializers.CharField):
    """A referral code as a member typed it."""


class ReferralOfferInput(StrictInputSerializer):
    destination = serializers.SlugField(
        max_length=50, help_text="The slug of the company whose product you recommend."
    )
    title_ja = serializers.CharField(max_length=200)
    title_en = serializers.CharField(max_length=200)
    description_ja = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    description_en = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    landing_url = serializers.CharField(
        max_length=500, help_text="An https page at the destination: clicks land there."
    )
    lead_fee_yen = YenField(required=False, help_text="At most the terms' lead fee.")
    sale_fee_yen = YenField(required=False, help_text="At most the terms' fixed sale fee.")
    sale_fee_percent = PercentField(required=False, help_text="At most the terms' percentage.")
    attribution_days = serializers.IntegerField(
        required=False, min_value=1, max_value=365, help_text="At most the terms' window."
    )
    member_coins = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=1_000_000,
        help_text="Coins for the referred member, funded by you at your program's yen per coin.",
    )
    member_coins_on = choice_field(
        ReferralConversion.Kind,
        required=False,
        help_text="The conversion that pays them: `sale` (default) or `lead`.",
    )
    valid_from = serializers.DateField(required=False, help_text="Default: today.")
    valid_until = serializers.DateField(
        required=False, help_text="Default and latest: the end of the agreement's version."
    )


class ReferralLinkInput(StrictInputSerializer):
    member_number = serializers.CharField(
        required=False, max_length=64, help_text="Your own member who recommends the offer."
    )
    campaign = serializers.CharField(
        required=False, max_length=100, help_text="Or: the campaign of a link without a member."
    )
    channel = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Your own note of the route it goes out by (a flyer run): yours alone.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("member_number" in attrs) == ("campaign" in attrs):
            raise serializers.ValidationError(
                {"member_number": ["Give either member_number or campaign."]}
            )
        return attrs


class OccurredAtField(serializers.DateTimeField):
    """When it happened: within the last 365 days and not in the future (five minutes of
    clock skew allowed)."""

    default_error_messages = {"window": "Within the last 365 days, and not in the future."}

    def to_internal_value(self, value: Any) -> datetime:
        at: datetime = super().to_internal_value(value)
        now = timezone.now()
        if not now - timedelta(days=365) <= at <= now + timedelta(minutes=5):
            self.fail("window")
        return at


class ReferralConversionInput(StrictInputSerializer):
    kind = choice_field(
        ReferralConversion.Kind,
        help_text="`lead`: the member joined your programme; `sale`: their first purchase.",
    )
    member_number = serializers.CharField(max_length=64, help_text="Your own member number.")
    order_id = serializers.CharField(
        max_length=100, help_text="Your id of the sign-up or order: it converts once."
    )
    amount_yen = YenField(
        required=False, help_text="The first purchase, in whole yen: required for a sale."
    )
    occurred_at = OccurredAtField(
        required=False, help_text="When it happened (default: now): within the last 365 days."
    )
    tokens = serializers.ListField(
        child=serializers.CharField(max_length=64),
        min_length=1,
        max_length=MAX_TOKENS,
        required=False,
        help_text="The referral tokens your landing page received for this member, any order.",
    )
    code = CodeField(
        required=False, max_length=20, help_text="Or: the referral code the member typed."
    )
    enrolled = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Or, true: the member joined your programme through mutual enrollment; the "
        "referral is found from their enrollment (the last click on the links the source gave "
        "them, within the window).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("tokens" in attrs) + ("code" in attrs) + bool(attrs.get("enrolled")) != 1:
            raise serializers.ValidationError(
                {"tokens": ["Give exactly one of tokens, code or enrolled."]}
            )
        if attrs["kind"] == ReferralConversion.Kind.SALE and not attrs.get("amount_yen"):
            raise serializers.ValidationError({"amount_yen": ["A sale needs its amount."]})
        return attrs


class ReferralRefundInput(StrictInputSerializer):
    order_id = serializers.CharField(max_length=100, help_text="The converted order.")
    reason = serializers.CharField(
        required=False, max_length=300, help_text="Why (default: refund)."
    )
