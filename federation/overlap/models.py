"""Overlap between member bases: who may see counts of whom, and the log of every question."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from federation.agreements.models import Agreement
from partners.models import Partner


class OverlapVisibility(models.Model):
    """How much of ``owner``'s base ``viewer`` may see in overlap: nothing (the default, when
    no row exists) or counts only. Identities are never shown, whatever this says."""

    class Level(models.TextChoices):
        NOTHING = "nothing", _("Nothing")
        COUNTS = "counts", _("Counts only")

    owner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="+", verbose_name=_("owner")
    )
    viewer = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="+", verbose_name=_("viewer")
    )
    level = models.CharField(
        _("what it may see"), max_length=10, choices=Level.choices, default=Level.NOTHING
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    updated_by = models.CharField(_("updated by"), max_length=200)

    class Meta:
        verbose_name = _("overlap visibility")
        verbose_name_plural = _("overlap visibilities")
        constraints = [
            models.UniqueConstraint(fields=["owner", "viewer"], name="federation_overlap_once"),
            models.CheckConstraint(
                condition=~Q(owner=models.F("viewer")), name="federation_overlap_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner_id} → {self.viewer_id}: {self.level}"


class OverlapQuery(models.Model):
    """The log of every overlap question: who asked about whom, how it was broken down, and
    how many cells came back or were suppressed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    asked_at = models.DateTimeField(_("asked at"), default=timezone.now, db_index=True)
    asker = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("asker")
    )
    other = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("other company")
    )
    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, related_name="+", verbose_name=_("agreement")
    )
    breakdown = models.CharField(_("breakdown"), max_length=20, blank=True)
    min_cell = models.PositiveIntegerField(_("smallest cell shown"))
    cells = models.PositiveIntegerField(_("cells"))
    suppressed = models.PositiveIntegerField(_("cells withheld"))
    asked_by = models.CharField(_("asked by"), max_length=200)

    class Meta:
        verbose_name = _("overlap question")
        verbose_name_plural = _("overlap questions")
        ordering = ["-asked_at"]

    def __str__(self) -> str:
        return f"Overlap {self.asker_id} with {self.other_id} at {self.asked_at:%Y-%m-%d %H:%M}"
