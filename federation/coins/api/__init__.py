"""The coin endpoints: posting (purchases, refunds, redemptions), holds and reversals, and
reading (balances, history, the caller's liability)."""

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
