"""The coin endpoints: posting (purchases, refunds, redemptions), holds and reversals, and
reading (balances, history, the caller's liability); actions between purchases."""

from federation.coins.api.actions import CoinActionApi
from federation.coins.api.holds import (
    CoinHoldApi,
    CoinHoldCaptureApi,
    CoinHoldVoidApi,
    CoinReversalApi,
)
from federation.coins.api.posting import CoinPurchaseApi, CoinRedemptionApi, CoinRefundApi
from federation.coins.api.reading import (
    CoinBalanceApi,
    CoinExpiringApi,
    CoinHistoryApi,
    CoinLiabilityApi,
)

__all__ = [
    "CoinActionApi",
    "CoinBalanceApi",
    "CoinExpiringApi",
    "CoinHistoryApi",
    "CoinHoldApi",
    "CoinHoldCaptureApi",
    "CoinHoldVoidApi",
    "CoinLiabilityApi",
    "CoinPurchaseApi",
    "CoinRedemptionApi",
    "CoinRefundApi",
    "CoinReversalApi",
]
