"""What the coin endpoints take: whole coins as JSON integers, yen as whole-yen strings or
integers (never binary floating point), and the member by exactly one of two names."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from partners.api.base import StrictInputSerializer

MAX_COINS = 10**12
MAX_YEN = Decimal(999_999_999_999)
# Whole yen from 1: no sign, no leading zero, no fraction, no exponent; 12 digits at most.
_WHOLE_YEN = re.compile(r"[1-9][0-9]{0,11}")


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_COINS})
class CoinsField(serializers.Field):
    """A whole number of coins, 1 to 10^12, given as a JSON integer: 1.5, "3", true, 1e3 and
    NaN are refused, never rounded."""

    default_error_messages = {"invalid": "A whole number of coins from 1 to 10^12."}

    def to_internal_value(self, data: Any) -> int:
        if type(data) is not int or not 1 <= data <= MAX_COINS:
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> int:
        return int(value)


@extend_schema_field(
    {"type": "string", "pattern": r"^[1-9][0-9]{0,11}$", "example": "3980", "maxLength": 12}
)
class YenField(serializers.Field):
    """Whole yen as a string of digits ("3980"), 1 to 999,999,999,999: no sign, no leading
    zero, no fraction, no exponent."""

    default_error_messages = {"invalid": 'Whole yen as a string of digits, e.g. "3980".'}

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str) or not _WHOLE_YEN.fullmatch(data):
            self.fail("invalid")
        amount = Decimal(data)
        if not 1 <= amount <= MAX_YEN:
            self.fail("invalid")
        return amount

    def to_representation(self, value: Any) -> str:
        return str(value)


class OccurredAtField(serializers.DateTimeField):
    """When the member did it: at most ``days_back`` days ago and not in the future (five
    minutes of clock skew allowed), so a report can neither be dated years back nor ahead."""

    default_error_messages = {
        "window": "Within the last %(days)s days, and not in the future.",
    }
    CLOCK_SKEW = timedelta(minutes=5)

    def __init__(self, *, days_back: int, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)
        self.days_back = days_back

    def to_internal_value(self, value: Any) -> datetime:
        at: datetime = super().to_internal_value(value)
        now = timezone.now()
        if not now - timedelta(days=self.days_back) <= at <= now + self.CLOCK_SKEW:
            self.fail("window", days=self.days_back)
        return at


class MemberInput(StrictInputSerializer):
    member_number = serializers.CharField(
        required=False, max_length=64, help_text="Your own member number for the member."
    )
    member = serializers.CharField(
        required=False,
        max_length=64,
        help_text="Or: the pseudonymous id you were given for another company's member.",
    )


class PurchaseInput(MemberInput):
    amount_yen = YenField(help_text="What the member paid, in whole yen.")
    order_id = serializers.CharField(
        max_length=100, help_text="Your order id: one purchase earns once."
    )
    occurred_at = OccurredAtField(
        days_back=365,
        help_text="When the purchase was made (default: now): within the last 365 days, not "
        "in the future.",
    )


class RedemptionInput(MemberInput):
    coins = CoinsField(help_text="Coins to spend, all or nothing.")
    reference = serializers.CharField(
        max_length=100, help_text="Your reference for the redemption (a till receipt)."
    )


class RefundInput(StrictInputSerializer):
    order_id = serializers.CharField(max_length=100, help_text="The order that earned coins.")
    refund_yen = YenField(
        required=False, help_text="The refunded part of the purchase; absent: all of it."
    )


class HoldInput(MemberInput):
    coins = CoinsField(help_text="Coins to reserve for the checkout.")
    reference = serializers.CharField(max_length=100, help_text="Your checkout's reference.")
    timeout_seconds = serializers.IntegerField(
        required=False,
        min_value=60,
        max_value=86_400,
        help_text="How long the hold lasts uncaptured: 60 s to a day (default 900).",
    )


class CaptureInput(StrictInputSerializer):
    coins = CoinsField(
        required=False, help_text="Coins to spend, at most those held (default: all)."
    )


class NoInput(StrictInputSerializer):
    """An empty object: the path says everything."""
