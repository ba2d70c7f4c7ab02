"""Mutual member enrollment: a member of one company joins a partner's program under an
agreement, with only the fields it allows and the member consented to."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from federation.agreements.models import Agreement
from partners.models import Partner


class EnrollmentBatch(models.Model):
    """Many members of ``source`` invited into ``target``'s program at once (a campaign),
    enrolled by a Celery task in set-based steps, with progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("source")
    )
    target = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("target")
    )
    member_numbers = models.JSONField(
        _("member numbers"), help_text=_("The source's member numbers, as sent.")
    )
    fields = models.JSONField(
        _("fields"), help_text=_("The fields asked for; empty for all allowed.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    total = models.PositiveIntegerField(_("member numbers sent"))
    processed = models.PositiveIntegerField(_("processed"), default=0)
    enrolled = models.PositiveIntegerField(_("enrolled"), default=0)
    error = models.CharField(_("error"), max_length=300, blank=True)
    requested_by = models.CharField(_("requested by"), max_length=200)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("enrollment batch")
        verbose_name_plural = _("enrollment batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return gettext("Enrollment batch %(id)s (%(status)s)") % {
            "id": str(self.id)[:8],
            "status": self.get_status_display(),
        }


class Enrollment(models.Model):
    """A member of ``source`` joining ``target``'s program under an agreement.

    Sanpo keeps no copy of the member's data for the target: the target reads the allowed
    fields through the API, and each read is checked against the agreement and the member's
    consent at that moment and recorded as a provision.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Shared, awaiting the target's confirmation")
        CONFIRMED = "confirmed", _("Confirmed by the target")
        ENDED = "ended", _("Ended")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(
        "partners.MemberAccount",
        on_delete=models.PROTECT,
        related_name="enrollments",
        verbose_name=_("member"),
    )
    source = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("source")
    )
    target = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("target")
    )
    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.PROTECT,
        related_name="enrollments",
        verbose_name=_("agreement"),
    )
    fields = models.JSONField(_("fields"), help_text=_("The member fields the target may read."))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now, db_index=True)
    requested_by = models.CharField(_("requested by"), max_length=200)
    batch = models.ForeignKey(
        EnrollmentBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("enrollment batch"),
    )
    target_member_number = models.CharField(_("target's member number"), max_length=64, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_reason = models.CharField(_("reason for ending"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        ordering = ["-requested_at"]
        constraints = [
            # However many requests arrive, a member is enrolled once in a program at a time.
            models.UniqueConstraint(
                fields=["member", "target"],
                condition=Q(status__in=["active", "confirmed"]),
                name="federation_enrollment_one_live",
            ),
            models.UniqueConstraint(
                fields=["target", "target_member_number"],
                condition=~Q(target_member_number="") & Q(status__in=["active", "confirmed"]),
                name="federation_enrollment_target_number_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["target", "status"], name="federation_enrollment_target"),
            models.Index(fields=["source", "status"], name="federation_enrollment_source"),
        ]

    def __str__(self) -> str:
        return gettext("Enrollment %(id)s (%(status)s)") % {
            "id": str(self.id)[:8],
            "status": self.get_status_display(),
        }
