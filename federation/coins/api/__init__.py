"""The coin endpoints: posting (purchases, refunds, redemptions) and reading (balances,
history)."""

from federation.coins.api.posting import CoinPurchaseApi, CoinRedemptionApi, CoinRefundApi
from federation.coins.api.reading import CoinBalanceApi, CoinHistoryApi

__all__ = [
    "CoinBalanceApi",
    "CoinHistoryApi",
    "CoinPurchaseApi",
    "CoinRedemptionApi",
    "CoinRefundApi",
]
