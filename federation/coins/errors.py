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
    NOT_REVERSIBLE = (
        "not_reversible",
        _("Only an earning whose coins are all unspent, or a redemption, can be reversed."),
    )
    NOTHING_TO_REFUND = "nothing_to_refund", _("These coins cannot be taken back any more.")
    DUPLICATE_ORDER = "duplicate_order", _("This order already earned coins.")
    HOLD_RESOLVED = "hold_resolved", _("This hold was already captured, voided or expired.")
    UNKNOWN_ACTION = (
        "unknown_action",
        _("The program in the agreement terms in force grants nothing for this action."),
    )
    ACTION_CAP_REACHED = (
        "action_cap_reached",
        _("The member has reached this action's cap for the day or the month."),
    )
    ACTION_ALREADY_REWARDED = (
        "action_already_rewarded",
        _("This action on this content already earned coins: it earns once."),
    )
    ACTION_HELD_OUT = (
        "action_held_out",
        _(
            "The member is in this action's holdout group: the action earns them nothing, so "
            "that its effect can be measured."
        ),
    )


STATUSES: dict[str, int] = {
    CoinErrorCode.INSUFFICIENT_COINS: 409,
    CoinErrorCode.UNBALANCED_TRANSACTION: 400,
    CoinErrorCode.ALREADY_REVERSED: 409,
    CoinErrorCode.NOT_REVERSIBLE: 409,
    CoinErrorCode.NOTHING_TO_REFUND: 409,
    CoinErrorCode.HOLD_RESOLVED: 409,
    CoinErrorCode.DUPLICATE_ORDER: 409,
    CoinErrorCode.UNKNOWN_ACTION: 422,
    CoinErrorCode.ACTION_CAP_REACHED: 409,
    CoinErrorCode.ACTION_ALREADY_REWARDED: 409,
    CoinErrorCode.ACTION_HELD_OUT: 409,
}
