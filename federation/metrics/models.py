"""The metrics domain's own tables: a member's activity with a company per day (Japan's
days), rolled up from the ledger, and the cached lift of finished periods."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.models import Partner, Person

ACTIVITY = "activity"  # the activity rollup's name in ``RollupState``


class ActivityDay(models.Model):
    """What a person did with a company's coin programme on one day: purchases and their yen,
    actions, coins earned and redeemed. Refreshed whole days at a time by
    ``metrics_refresh_days``; a person with no row for a day did nothing that day."""

    id = models.BigAutoField(primary_key=True)
    company = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    day = models.DateField(_("day"))
    purchases = models.IntegerField(_("purchases"), default=0)
    yen = models.DecimalField(_("purchases (yen)"), max_digits=14, decimal_places=0, default=0)
    actions = models.IntegerField(_("actions"), default=0)
    coins_earned = models.BigIntegerField(_("coins earned"), default=0)
    coins_redeemed = models.BigIntegerField(_("coins redeemed"), default=0)

    class Meta:
        verbose_name = _("activity day")
        verbose_name_plural = _("activity days")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "person", "day"], name="metrics_activity_day_unique"
            ),
        ]
        indexes = [models.Index(fields=["company", "day"], name="metrics_activity_company_day")]

    def __str__(self) -> str:
        return f"{self.company_id}/{self.person_id} {self.day}"


class LiftResult(models.Model):
    """The lift of a programme over a finished period, computed once: the ledger only grows
    forward, so no later posting changes a period that is over."""

    id = models.BigAutoField(primary_key=True)
    company = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    programme = models.CharField(_("programme"), max_length=120)
    start = models.DateField(_("from"))
    end = models.DateField(_("to"))
    dormant_days = models.PositiveIntegerField(_("dormant days"))
    figures = models.JSONField(_("figures"))
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    class Meta:
        verbose_name = _("lift result")
        verbose_name_plural = _("lift results")
        ordering = ["-computed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "programme", "start", "end", "dormant_days"],
                name="metrics_lift_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme} {self.start}..{self.end}"


class RollupState(models.Model):
    """How far a rollup is complete: every day up to ``through`` (Japan's days) was refreshed
    after it ended, so figures up to it are final."""

    name = models.CharField(_("rollup"), max_length=40, primary_key=True)
    through = models.DateField(_("complete through"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed at"), default=timezone.now)

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup states")

    def __str__(self) -> str:
        return f"{self.name} through {self.through}"


class Metric(models.TextChoices):
    MEMBERS_ACTIVE = "members_active", _("Active members")
    MEMBERS_DORMANT = "members_dormant", _("Dormant members")
    REACTIVATED = "reactivated", _("Reactivated members")
    REACTIVATED_HELD_OUT = "reactivated_held_out", _("Reactivated members held out")
    REACTIVATED_BOUGHT = "reactivated_bought", _("Reactivated members who bought within 30 days")
    COINS_ISSUED = "coins_issued", _("Coins issued")
    COINS_SPENT = "coins_spent", _("Coins spent (by issuer)")
    COINS_EXPIRED = "coins_expired", _("Coins expired")
    REFERRAL_CLICKS = "referral_clicks", _("Referral clicks")
    REFERRAL_CONVERSIONS = "referral_conversions", _("Referral conversions")
    ENROLLMENTS = "enrollments", _("Members enrolled")
    CAMPAIGN_DRAWN = "campaign_drawn", _("Members drawn for campaigns")
    CAMPAIGN_SHIPPED = "campaign_shipped", _("Campaign samples in shipment lists")
    CAMPAIGN_ANSWERS = "campaign_answers", _("Campaign survey answers")


class DailyFigure(models.Model):
    """One figure of one company on one day (Japan's), with the other company it concerns
    where there is one: coins of ``counterparty`` spent at ``company``, clicks ``company`` sent
    to ``counterparty``, members of ``company`` enrolled with ``counterparty``. Rebuilt whole
    days at a time by ``metrics_refresh_days``."""

    id = models.BigAutoField(primary_key=True)
    day = models.DateField(_("day"))
    metric = models.CharField(_("metric"), max_length=24, choices=Metric.choices)
    company = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    counterparty = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("counterparty"),
    )
    value = models.BigIntegerField(_("value"))

    class Meta:
        verbose_name = _("daily figure")
        verbose_name_plural = _("daily figures")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "metric", "company", "counterparty"],
                nulls_distinct=False,
                name="metrics_daily_figure_unique",
            ),
        ]
        indexes = [models.Index(fields=["company", "day"], name="metrics_figure_company_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.metric} {self.company_id}: {self.value}"
