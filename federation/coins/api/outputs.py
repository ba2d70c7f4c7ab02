"""What the coin endpoints answer."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from federation.coins.models import CoinEntry, CoinLot
from federation.coins.selectors import Balances
from partners.models import Partner


class BalancesOutput(serializers.Serializer):
    available = serializers.IntegerField(help_text="Coins the member can spend now.")
    pending = serializers.IntegerField(help_text="Coins waiting for a return window to close.")
    held = serializers.IntegerField(help_text="Coins reserved by open holds.")


class LotOutput(serializers.Serializer):
    issuer = serializers.CharField(help_text="The company that funds these coins.")
    amount = serializers.IntegerField()
    remaining = serializers.IntegerField()
    issued_at = serializers.DateTimeField()
    pending_until = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)


class BalanceOutput(serializers.Serializer):
    balances = BalancesOutput()
    lots = LotOutput(many=True, help_text="Coins left, oldest first, each with its expiry.")


class PostingOutput(serializers.Serializer):
    transaction_id = serializers.UUIDField(allow_null=True)
    coins = serializers.IntegerField()
    capped = serializers.BooleanField(
        required=False, help_text="True when the premium cap cut the coins of a purchase."
    )
    balances = BalancesOutput()


class RefundOutput(serializers.Serializer):
    requested = serializers.IntegerField(help_text="Coins of the order asked back.")
    recovered = serializers.IntegerField(help_text="Coins taken back from the member.")
    shortfall = serializers.IntegerField(help_text="Coins the member had already spent.")


class HistoryEntryOutput(serializers.Serializer):
    posted_at = serializers.DateTimeField()
    kind = serializers.CharField(help_text="Why: earn_purchase, earn_action, redeem, …")
    account = serializers.CharField(help_text="available, pending or held.")
    coins = serializers.IntegerField(help_text="In (positive) or out (negative).")
    balance_after = serializers.IntegerField(
        allow_null=True,
        help_text="The balance after it; null while some of the member's coins are of "
        "companies not linked with yours.",
    )
    company = serializers.CharField(allow_null=True, help_text="The company that posted it.")
    reference = serializers.CharField(
        allow_blank=True, help_text="Your reference, on your own postings only."
    )


ACCOUNT_NAMES = {"wallet": "available", "pending": "pending", "hold": "held"}


def balances_view(balances: Balances) -> dict[str, int]:
    return {"available": balances.available, "pending": balances.pending, "held": balances.held}


def lot_view(lot: CoinLot) -> dict[str, Any]:
    return {
        "issuer": lot.issuer.slug,
        "amount": lot.amount,
        "remaining": lot.remaining,
        "issued_at": lot.issued_at,
        "pending_until": lot.pending_until if lot.released_at is None else None,
        "expires_at": lot.expires_at,
    }


def entry_view(entry: CoinEntry, caller: Partner, *, whole: bool = True) -> dict[str, Any]:
    """One history entry as ``caller`` reads it; without the balance after it unless the
    caller sees the ``whole`` of the member's coins."""
    posted = entry.transaction
    own = posted.partner_id == caller.pk
    return {
        "posted_at": posted.posted_at,
        "kind": posted.kind,
        "account": ACCOUNT_NAMES.get(entry.account.kind, entry.account.kind),
        "coins": entry.amount,
        "balance_after": entry.balance_after if whole else None,
        "company": posted.partner.slug if posted.partner else None,
        "reference": posted.reference if own else "",
    }


class HoldOutput(serializers.Serializer):
    hold_id = serializers.UUIDField()
    coins = serializers.IntegerField(help_text="Coins held.")
    captured = serializers.IntegerField(help_text="Coins spent when captured.")
    state = serializers.ChoiceField(choices=["open", "captured", "voided", "expired"])
    expires_at = serializers.DateTimeField()


class ReversalOutput(serializers.Serializer):
    reversal_id = serializers.UUIDField()
    reverses = serializers.UUIDField()


class LiabilityOutput(serializers.Serializer):
    issued = serializers.IntegerField(help_text="Coins you funded, net of those taken back.")
    unspent = serializers.IntegerField(help_text="Of which in members' hands (pending, held).")
    redeemed = serializers.IntegerField(help_text="Of which spent at any company.")
    expired = serializers.IntegerField(help_text="Of which expired (your breakage).")


def hold_view(hold: Any) -> dict[str, Any]:
    return {
        "hold_id": hold.pk,
        "coins": hold.coins,
        "captured": hold.captured,
        "state": hold.state,
        "expires_at": hold.expires_at,
    }


class ExpiringOutput(serializers.Serializer):
    member_number = serializers.CharField(help_text="Your member number.")
    coins = serializers.IntegerField(help_text="Coins that expire within the window.")
    first_expiry = serializers.DateTimeField(help_text="When the first of them expires.")


def expiring_view(member: Any) -> dict[str, Any]:
    return {
        "member_number": member.member_number,
        "coins": member.expiring,
        "first_expiry": member.first_expiry,
    }
