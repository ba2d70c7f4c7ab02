"""What earning for actions between purchases keeps: each member's last activity with a
company's program, every action that earned coins, and every reactivation.

An action grant is kept per member (person), company and action type, with the content it was
for: the catalogue's caps per day and per month are counted on these rows, and a unique
constraint makes "once per content" hold even when two reports of the same action race.
Reactivations record a dormant member coming back through an action, for the metrics."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from federation.coins.models.ledger import CoinTransaction
from partners.models import MemberAccount, Partner, Person


class CoinActivity(models.Model):
    """When a member last earned or spent coins with a company: the dormancy a reactivation
    bonus is measured by, and where an expiry counted from the last activity starts."""

    id = models.BigAutoField(primary_key=True)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    company = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    last_active_at = models.DateTimeField(_("last active at"))

    class Meta:
        verbose_name = _("coin activity")
        verbose_name_plural = _("coin activities")
        constraints = [
            models.UniqueConstraint(fields=["person", "company"], name="coins_activity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.company_id}: {self.last_active_at:%Y-%m-%d}"


class CoinActionGrant(models.Model):
    """Coins a company granted a member for an action: its type and content, when it happened
    (the day and month the caps count in, in Japan's time) and the posting."""

    id = models.BigAutoField(primary_key=True)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    company = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    member = models.ForeignKey(
        MemberAccount, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    action_type = models.CharField(_("action type"), max_length=40)
    content_id = models.CharField(_("content"), max_length=100, blank=True, default="")
    once_per_content = models.BooleanField(_("once per content"), default=False)
    coins = models.BigIntegerField(_("coins"))
    occurred_at = models.DateTimeField(_("occurred at"))
    transaction = models.OneToOneField(
        CoinTransaction, on_delete=models.PROTECT, related_name="+", verbose_name=_("posting")
    )
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)

    class Meta:
        verbose_name = _("coin action grant")
        verbose_name_plural = _("coin action grants")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "company", "action_type", "content_id"],
                condition=Q(once_per_content=True),
                name="coins_action_once_per_content",
            ),
            models.CheckConstraint(condition=Q(coins__gt=0), name="coins_action_coins"),
        ]
        indexes = [
            models.Index(
                fields=["person", "company", "action_type", "occurred_at"],
                name="coins_action_caps",
            )
        ]

    def __str__(self) -> str:
        return f"{self.action_type} {self.content_id}".strip()


class CoinReactivation(models.Model):
    """A member who had been dormant with a company (no activity for the program's dormant
    days) and came back through an action: the bonus they got, and for how long they slept.
    A member in the program's holdout (``federation.holdouts``) is recorded too, with no bonus:
    the metrics compare both groups."""

    id = models.BigAutoField(primary_key=True)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    company = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    member = models.ForeignKey(
        MemberAccount, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    grant = models.OneToOneField(
        CoinActionGrant,
        on_delete=models.PROTECT,
        related_name="reactivation",
        verbose_name=_("action"),
    )
    bonus = models.BigIntegerField(_("bonus coins"))
    bonus_transaction = models.OneToOneField(
        CoinTransaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("bonus posting"),
    )
    held_out = models.BooleanField(_("held out"), default=False)
    last_active_at = models.DateTimeField(_("last active before"))
    dormant_days = models.PositiveIntegerField(_("dormant days"))
    reactivated_at = models.DateTimeField(_("reactivated at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("coin reactivation")
        verbose_name_plural = _("coin reactivations")
        ordering = ["-reactivated_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(held_out=True, bonus=0, bonus_transaction__isnull=True)
                | Q(held_out=False, bonus__gt=0, bonus_transaction__isnull=False),
                name="coins_reactivation_bonus_unless_held_out",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_id} after {self.dormant_days}d"
