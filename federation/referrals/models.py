"""Referrals between companies: an offer of a destination's product that a source company
recommends, the links (and codes) it hands out, the clicks on them, the conversions the
destination reports, and the fees the destination owes the source for them.

The database holds the rules a race could break: one conversion per destination order id, one
counted conversion per member, offer and kind (a duplicate is kept only as a flagged row
pointing at the first), one fee and one clawback per conversion, fees in whole yen.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from federation.agreements.models import Agreement
from federation.coins.models import CoinTransaction
from partners.models import MemberAccount, Partner


class ReferralOffer(models.Model):
    """What a source company recommends of a destination's, under an agreement whose referral
    terms allow it, with the fees and window it narrowed them to (copied from the terms when
    it did not)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, related_name="+", verbose_name=_("agreement")
    )
    source = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("source")
    )
    destination = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("destination")
    )
    title_ja = models.CharField(_("title (Japanese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    description_ja = models.TextField(_("description (Japanese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    landing_url = models.URLField(_("landing URL"), max_length=500)
    lead_fee_yen = models.DecimalField(
        _("fee per lead (yen)"), max_digits=12, decimal_places=0, null=True, blank=True
    )
    sale_fee_yen = models.DecimalField(
        _("fee per sale (yen)"), max_digits=12, decimal_places=0, null=True, blank=True
    )
    sale_fee_percent = models.DecimalField(
        _("fee per sale (percent)"), max_digits=7, decimal_places=4, null=True, blank=True
    )
    attribution_days = models.PositiveIntegerField(_("attribution window (days)"))
    member_coins = models.PositiveIntegerField(
        _("coins for the referred member"),
        default=0,
        help_text=_("Funded by the source, on the referred member's counted conversion."),
    )
    member_coins_on = models.CharField(
        _("coins paid on"),
        max_length=8,
        choices=[("lead", _("Lead")), ("sale", _("Sale"))],
        default="sale",
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("referral offer")
        verbose_name_plural = _("referral offers")
        constraints = [
            models.CheckConstraint(
                condition=~Q(source=models.F("destination")), name="referrals_offer_two_companies"
            ),
            models.CheckConstraint(
                condition=Q(sale_fee_yen__isnull=True) | Q(sale_fee_percent__isnull=True),
                name="referrals_offer_one_sale_fee",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")),
                name="referrals_offer_valid_dates",
            ),
        ]
        indexes = [
            models.Index(fields=["source", "-id"], name="referrals_offer_source"),
            models.Index(fields=["destination", "-id"], name="referrals_offer_destination"),
        ]

    def __str__(self) -> str:
        return self.title_en


class ReferralLink(models.Model):
    """A link (and its code) the source hands out: for one of its members, who recommends the
    offer, or for a campaign, without a member. ``channel`` is the source's own note of the
    route it went out by (a flyer run, a delivery area), for its own reporting only."""

    id = models.BigAutoField(primary_key=True)
    offer = models.ForeignKey(
        ReferralOffer, on_delete=models.PROTECT, related_name="links", verbose_name=_("offer")
    )
    token = models.CharField(_("token"), max_length=64, unique=True)
    code = models.CharField(_("code"), max_length=16, unique=True)
    member = models.ForeignKey(
        MemberAccount,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("referring member"),
    )
    campaign = models.CharField(_("campaign"), max_length=100, blank=True)
    channel = models.CharField(_("channel"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("referral link")
        verbose_name_plural = _("referral links")
        constraints = [
            models.CheckConstraint(
                condition=Q(member__isnull=False) | ~Q(campaign=""),
                name="referrals_link_member_or_campaign",
            )
        ]

    def __str__(self) -> str:
        return f"{self.offer_id}:{self.code}"


class ReferralClick(models.Model):
    """A visit through a link: when, and a coarse fingerprint for the velocity rule (never an
    address or a user agent)."""

    id = models.BigAutoField(primary_key=True)
    link = models.ForeignKey(
        ReferralLink, on_delete=models.PROTECT, related_name="clicks", verbose_name=_("link")
    )
    offer = models.ForeignKey(
        ReferralOffer, on_delete=models.PROTECT, related_name="+", verbose_name=_("offer")
    )
    at = models.DateTimeField(_("clicked at"), default=timezone.now)
    fingerprint = models.CharField(_("fingerprint"), max_length=16)

    class Meta:
        verbose_name = _("referral click")
        verbose_name_plural = _("referral clicks")
        indexes = [
            models.Index(fields=["link", "at"], name="referrals_click_link_at"),
            models.Index(fields=["offer", "at"], name="referrals_click_offer_at"),
        ]

    def __str__(self) -> str:
        return f"{self.link_id}@{self.at:%Y-%m-%d %H:%M}"


class ReferralConversion(models.Model):
    """A lead or a sale the destination reported, attributed to a link (and the click that won
    the tie-break, none for a typed code), and where it stands."""

    class Kind(models.TextChoices):
        LEAD = "lead", _("Lead")
        SALE = "sale", _("Sale")

    class State(models.TextChoices):
        RECORDED = "recorded", _("Recorded")
        FLAGGED = "flagged", _("Flagged for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        REFUNDED = "refunded", _("Refunded")

    class Flag(models.TextChoices):
        SELF_REFERRAL = "self_referral", _("Self-referral")
        BEFORE_CLICK = "before_click", _("Conversion before the click")
        VELOCITY_LINK = "velocity_link", _("Too many conversions from one link")
        VELOCITY_FINGERPRINT = "velocity_fingerprint", _("Too many conversions from one device")
        DUPLICATE = "duplicate", _("Duplicate under another order id")

    id = models.BigAutoField(primary_key=True)
    offer = models.ForeignKey(
        ReferralOffer, on_delete=models.PROTECT, related_name="+", verbose_name=_("offer")
    )
    link = models.ForeignKey(
        ReferralLink, on_delete=models.PROTECT, related_name="+", verbose_name=_("link")
    )
    # On PostgreSQL the clicks are partitioned by month of ``at`` (README, "Partitioning"), so
    # a foreign key must name their whole primary key ``(id, at)``: the database holds
    # ``(click_id, click_at)`` to it (migration 0017), not Django's one-column one.
    click = models.ForeignKey(
        ReferralClick,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_constraint=False,
        verbose_name=_("click"),
    )
    click_at = models.DateTimeField(_("clicked at"), null=True, blank=True, editable=False)
    destination = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("destination")
    )
    member = models.ForeignKey(
        MemberAccount, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    order_id = models.CharField(_("order id"), max_length=100)
    amount_yen = models.DecimalField(_("amount (yen)"), max_digits=14, decimal_places=0)
    occurred_at = models.DateTimeField(_("occurred at"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    flags = models.JSONField(_("flags"), default=list, blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("duplicate of"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.CharField(_("reviewed by"), max_length=200, blank=True)
    review_reason = models.CharField(_("review reason"), max_length=300, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    member_coins_earned = models.OneToOneField(
        CoinTransaction,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("coins earned by the member"),
    )

    class Meta:
        verbose_name = _("referral conversion")
        verbose_name_plural = _("referral conversions")
        constraints = [
            models.UniqueConstraint(
                fields=["destination", "order_id"], name="referrals_conversion_order_unique"
            ),
            models.UniqueConstraint(
                fields=["offer", "member", "kind"],
                condition=Q(duplicate_of__isnull=True),
                name="referrals_conversion_once_per_member",
            ),
            models.CheckConstraint(
                condition=Q(amount_yen__gte=0), name="referrals_conversion_amount_nonnegative"
            ),
            # The composite foreign key checks nothing when either column is null.
            models.CheckConstraint(
                condition=Q(click__isnull=True, click_at__isnull=True)
                | Q(click__isnull=False, click_at__isnull=False),
                name="referrals_conversion_click_at_with_click",
            ),
        ]
        indexes = [
            models.Index(fields=["offer", "occurred_at"], name="referrals_conv_offer_at"),
            # Whether a month of clicks is still named by a conversion (the retention).
            models.Index(
                fields=["click_at"],
                condition=Q(click_at__isnull=False),
                name="referrals_conv_click_at",
            ),
            models.Index(fields=["link", "occurred_at"], name="referrals_conv_link_at"),
            models.Index(fields=["state", "id"], name="referrals_conv_state"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.order_id}"


class ReferralFee(models.Model):
    """What the destination owes the source for a conversion: pending while refunds and
    reviews can still change it, locked once its review period is over (settlement posts only
    locked fees), settled once posted. A refund reverses a pending fee; a locked or settled
    one is answered by a clawback, a negative fee of its own that the next settlement takes."""

    class Kind(models.TextChoices):
        FEE = "fee", _("Fee")
        CLAWBACK = "clawback", _("Clawback")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        LOCKED = "locked", _("Locked")
        SETTLED = "settled", _("Settled")
        REVERSED = "reversed", _("Reversed")

    id = models.BigAutoField(primary_key=True)
    conversion = models.ForeignKey(
        ReferralConversion,
        on_delete=models.PROTECT,
        related_name="fees",
        verbose_name=_("conversion"),
    )
    offer = models.ForeignKey(
        ReferralOffer, on_delete=models.PROTECT, related_name="+", verbose_name=_("offer")
    )
    source = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("source")
    )
    destination = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("destination")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.FEE)
    amount_yen = models.DecimalField(_("amount (yen)"), max_digits=14, decimal_places=0)
    state = models.CharField(_("state"), max_length=8, choices=State.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    lock_after = models.DateTimeField(_("locks after"))
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    settlement_reference = models.CharField(_("settlement reference"), max_length=100, blank=True)
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("referral fee")
        verbose_name_plural = _("referral fees")
        constraints = [
            models.UniqueConstraint(
                fields=["conversion", "kind"], name="referrals_fee_one_per_kind"
            ),
            models.CheckConstraint(
                condition=Q(kind="fee", amount_yen__gte=0) | Q(kind="clawback", amount_yen__lte=0),
                name="referrals_fee_sign",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "lock_after"], name="referrals_fee_due"),
            models.Index(fields=["state", "locked_at"], name="referrals_fee_locked"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ¥{self.amount_yen} ({self.state})"
