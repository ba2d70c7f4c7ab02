"""A campaign, its survey, the members drawn for it and their answers."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from federation.agreements.models import Agreement
from federation.referrals.models import ReferralOffer
from partners.models import MemberAccount, Partner


class Campaign(models.Model):
    """A partner's product offered to a segment of the host's members. Its state only moves
    through the services: draft → proposed → approved or rejected; approved → selecting →
    shipping → surveying → closed."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PROPOSED = "proposed", _("Proposed")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SELECTING = "selecting", _("Selecting")
        SHIPPING = "shipping", _("Shipping")
        SURVEYING = "surveying", _("Surveying")
        CLOSED = "closed", _("Closed")

    class Selection(models.TextChoices):
        INVITE = "invite", _("Invite first, members confirm")
        DIRECT = "direct", _("Selected directly")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("partner")
    )
    host = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("host")
    )
    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, related_name="+", verbose_name=_("agreement")
    )
    name_ja = models.CharField(_("product name (Japanese)"), max_length=200)
    name_en = models.CharField(_("product name (English)"), max_length=200)
    description_ja = models.TextField(_("description (Japanese)"), max_length=4000)
    description_en = models.TextField(_("description (English)"), max_length=4000)
    category = models.SlugField(_("category"), max_length=50)
    quantity = models.PositiveIntegerField(_("quantity"))
    segment = models.JSONField(_("segment"), default=dict)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    selection = models.CharField(_("selection"), max_length=10, choices=Selection.choices)
    coins_per_answer = models.PositiveIntegerField(_("coins per answer"), default=0)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.DRAFT, db_index=True
    )
    reject_reason = models.TextField(_("reason for rejection"), max_length=2000, blank=True)
    seed = models.CharField(_("seed of the draw"), max_length=64, blank=True)
    selected = models.PositiveIntegerField(_("members selected"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.CharField(_("decided by"), max_length=200, blank=True)
    landing_url = models.URLField(_("where members get the product"), max_length=500, blank=True)
    promoted_offer = models.OneToOneField(
        ReferralOffer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("promoted as referral offer"),
    )

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="campaigns_dates_in_order"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="campaigns_quantity_some"),
        ]

    def __str__(self) -> str:
        return f"{self.name_en} ({self.get_state_display()})"


class SurveyQuestion(models.Model):
    """One question of a campaign's survey, in Japanese and English."""

    class Kind(models.TextChoices):
        RATING = "rating", _("Rating from 1 to 5")
        SINGLE = "single", _("One choice")
        MULTIPLE = "multiple", _("Several choices")
        TEXT = "text", _("Free text")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="questions", verbose_name=_("campaign")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    text_ja = models.CharField(_("question (Japanese)"), max_length=500)
    text_en = models.CharField(_("question (English)"), max_length=500)
    # [{"ja": ..., "en": ...}, ...] for single and multiple choice, empty otherwise.
    choices = models.JSONField(_("choices"), default=list, blank=True)

    class Meta:
        verbose_name = _("survey question")
        verbose_name_plural = _("survey questions")
        ordering = ["campaign", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "position"], name="campaigns_question_position_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.text_en}"


class CampaignMember(models.Model):
    """A member drawn for a campaign: selected directly, or invited and then confirmed."""

    class Status(models.TextChoices):
        SELECTED = "selected", _("Selected")
        INVITED = "invited", _("Invited")
        CONFIRMED = "confirmed", _("Confirmed")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="members", verbose_name=_("campaign")
    )
    member = models.ForeignKey(
        MemberAccount, on_delete=models.CASCADE, related_name="+", verbose_name=_("member")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    selected_at = models.DateTimeField(_("selected at"), db_index=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    exported_at = models.DateTimeField(_("in a shipment list since"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign member")
        verbose_name_plural = _("campaign members")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "member"], name="campaigns_member_once")
        ]
        indexes = [models.Index(fields=["member", "selected_at"], name="campaigns_member_recent")]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.member_id} ({self.status})"


class CampaignHoldoutMember(models.Model):
    """An eligible member the campaign's holdout kept out of its draw, recorded when it drew:
    never contacted, the group its drawn members are measured against (``federation.metrics``).
    Who was eligible depends on consents at that moment, so it is recorded, not recomputed."""

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="held_out_members",
        verbose_name=_("campaign"),
    )
    member = models.ForeignKey(
        MemberAccount, on_delete=models.CASCADE, related_name="+", verbose_name=_("member")
    )

    class Meta:
        verbose_name = _("campaign holdout member")
        verbose_name_plural = _("campaign holdout members")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "member"], name="campaigns_holdout_member_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.member_id} (held out)"


class SurveyAnswer(models.Model):
    """A member's answers to a campaign's survey, once: free text is stored only as scrubbed of
    anything identifying. The segment columns are the member's at the time, for the cells."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="answers", verbose_name=_("campaign")
    )
    campaign_member = models.OneToOneField(
        CampaignMember, on_delete=models.CASCADE, related_name="answer", verbose_name=_("member")
    )
    answers = models.JSONField(_("answers"))  # {"<question position>": value}
    age_band = models.CharField(_("age band"), max_length=10, blank=True)
    kind = models.CharField(_("kind"), max_length=10, blank=True)
    coins = models.PositiveIntegerField(_("coins earned"), default=0)
    coin_transaction_id = models.UUIDField(_("coin transaction"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), default=timezone.now)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")

    def __str__(self) -> str:
        return f"{self.campaign_id}: answer {self.pk}"


class CampaignImage(models.Model):
    """A picture of a campaign's product, uploaded by the partner while drafting and served by
    Sanpo to the partner and the host (never from a public address). Its type is the one its
    bytes show, not the one it was declared with."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="images", verbose_name=_("campaign")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    content_type = models.CharField(_("content type"), max_length=20)
    content = models.BinaryField(_("content"))
    size = models.PositiveIntegerField(_("size in bytes"))
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("campaign image")
        verbose_name_plural = _("campaign images")
        ordering = ["campaign", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "position"], name="campaigns_image_position_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: image {self.position}"
