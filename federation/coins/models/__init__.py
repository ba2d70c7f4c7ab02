"""The coin domain's tables: the ledger (accounts, transactions, entries, lots and their uses,
holds, clawbacks) and what earning for actions keeps (each member's last activity with a
program, the action grants and the reactivations)."""

from federation.coins.models.actions import CoinActionGrant, CoinActivity, CoinReactivation
from federation.coins.models.ledger import (
    LIABILITY_SHARDS,
    CoinAccount,
    CoinClawback,
    CoinEntry,
    CoinHold,
    CoinLot,
    CoinLotUse,
    CoinTransaction,
)

__all__ = [
    "LIABILITY_SHARDS",
    "CoinAccount",
    "CoinActionGrant",
    "CoinActivity",
    "CoinClawback",
    "CoinEntry",
    "CoinHold",
    "CoinLot",
    "CoinLotUse",
    "CoinReactivation",
    "CoinTransaction",
]
