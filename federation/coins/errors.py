"""The coin domain's error codes, registered with the federation app's."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CoinErrorCode(models.TextChoices):
    INSUFFICIENT_COINS = "insufficient_coins", _("Not enough coins for this.")
    UNBALANCED_TRANSACTION = (
        "unbalanced_transaction",
        _("A coin transaction's entries must sum to zero."),
    )
    ALREADY_REVERSED = "already_reversed", _("This transaction has nothing left to reverse.")


STATUSES: dict[str, int] = {
    CoinErrorCode.INSUFFICIENT_COINS: 409,
    CoinErrorCode.UNBALANCED_TRANSACTION: 400,
    CoinErrorCode.ALREADY_REVERSED: 409,
}
