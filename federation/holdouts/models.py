"""A programme's holdout, recorded once: its key, share and seed never change afterwards, so
every assignment made under it can be reproduced later."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.models import Partner


def new_seed() -> str:
    return secrets.token_hex(16)


class Holdout(models.Model):
    class Kind(models.TextChoices):
        CAMPAIGN = "campaign", _("Sampling campaign")
        REACTIVATION = "reactivation", _("Reactivation bonus")
        ACTION_RULE = "action_rule", _("Action-earning rule")
        REFERRAL_REWARD = "referral_reward", _("Referral reward")

    id = models.BigAutoField(primary_key=True)
    key = models.CharField(_("programme"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    company = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    percent = models.DecimalField(
        _("held out (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(50))],
    )
    seed = models.CharField(_("seed"), max_length=64, default=new_seed, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("holdout group")
        verbose_name_plural = _("holdout groups")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=50), name="holdouts_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.percent}%)"
