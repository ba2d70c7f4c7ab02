"""Overlap between member bases: who may see counts of whom, and the log of every question."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from federation.agreements.models import Agreement
from partners.models import Partner


class OverlapVisibility(models.Model):
    """How much of ``owner``'s base ``viewer`` may see in overlap: nothing (the default, when
    no row exists) or counts only. Identities are never shown, whatever this says."""

    class Level(models.TextChoices):
        NOTHING = "nothing", "Nothing"
        COUNTS = "counts", "Counts only"

    owner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    viewer = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.NOTHING)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.CharField(max_length=200)

    class Meta:
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
    asked_at = models.DateTimeField(default=timezone.now, db_index=True)
    asker = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    other = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="+")
    breakdown = models.CharField(max_length=20, blank=True)
    min_cell = models.PositiveIntegerField()
    cells = models.PositiveIntegerField()
    suppressed = models.PositiveIntegerField()
    asked_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["-asked_at"]

    def __str__(self) -> str:
        return f"Overlap {self.asker_id} with {self.other_id} at {self.asked_at:%Y-%m-%d %H:%M}"
