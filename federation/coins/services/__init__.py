"""The coin domain's writes. ``ledger`` posts balanced transactions; everything that moves
coins (earning, redemption, holds, expiry) posts through it."""

from federation.coins.services.ledger import (
    Leg,
    account_for,
    company_account,
    liability_account,
    post,
    reverse,
)

__all__ = [
    "Leg",
    "account_for",
    "company_account",
    "liability_account",
    "post",
    "reverse",
]
