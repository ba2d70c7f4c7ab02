"""The coin domain's audit actions, registered from its ``registrations``."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CoinAuditAction(models.TextChoices):
    EARNED = "coins.earned", _("Coins earned")
    RELEASED = "coins.released", _("Pending coins released")
    REFUNDED = "coins.refunded", _("Coins of a refunded purchase taken back")
    REDEEMED = "coins.redeemed", _("Coins redeemed")
    HELD = "coins.held", _("Coins held for a checkout")
    CAPTURED = "coins.hold_captured", _("Coin hold captured")
    VOIDED = "coins.hold_voided", _("Coin hold released")
    HOLD_EXPIRED = "coins.hold_expired", _("Coin hold expired")
    REVERSED = "coins.reversed", _("Coin transaction reversed")
    EXPIRED = "coins.expired", _("Coins expired")
    REACTIVATED = "coins.reactivated", _("Dormant member reactivated")
