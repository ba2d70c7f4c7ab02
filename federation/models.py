"""Co-marketing agreements between the host and partner brands.

An ``Agreement`` is the lasting relationship; its terms live in numbered, immutable-once-proposed
``AgreementVersion`` rows. An amendment (new terms, a company added) is a new version that every
party of it signs (``AgreementParty.signed_at``) and that takes effect on its date. Only the
newest fully signed version already in effect, of an agreement that is active, lets anything
happen: ``federation.selectors.terms_in_force`` is the one place that answers what it allows.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from partners.crypto import EncryptedTextField
from partners.models import Partner


class Agreement(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PROPOSED = "proposed", "Proposed, awaiting signatures"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        TERMINATED = "terminated", "Terminated"
        EXPIRED = "expired", "Expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200)
    host = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    status_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"], name="federation_agreement_status")]

    def __str__(self) -> str:
        return self.title


class AgreementVersion(models.Model):
    """One version of an agreement's terms. Editable while a draft; fixed once proposed.

    ``terms`` is the validated terms document (``federation.terms``): data flows with their
    purposes, fields and legal basis, coin terms, referral terms and overlap settings.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PROPOSED = "proposed", "Proposed, awaiting signatures"
        SIGNED = "signed", "Signed by every party"
        WITHDRAWN = "withdrawn", "Withdrawn before every party signed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    effective_from = models.DateField()
    valid_until = models.DateField()
    terms = models.JSONField()
    terms_sha256 = models.CharField(max_length=64)
    summary = models.CharField(max_length=300, blank=True, help_text="What this version changes.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.CharField(max_length=200)
    proposed_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True, help_text="When the last party signed.")

    class Meta:
        ordering = ["agreement", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "number"], name="federation_version_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("effective_from")),
                name="federation_version_valid_after_effective",
            ),
            # One open proposal per agreement at a time: signatures are never split.
            models.UniqueConstraint(
                fields=["agreement"],
                condition=Q(status="proposed"),
                name="federation_version_one_proposal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement} v{self.number}"


class AgreementParty(models.Model):
    """A company bound by one version, its contact for the agreement, and its signature."""

    version = models.ForeignKey(AgreementVersion, on_delete=models.PROTECT, related_name="parties")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    contact_name = EncryptedTextField()
    contact_email = EncryptedTextField()
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.CharField(
        max_length=200, blank=True, help_text="Who signed for the party, and through what."
    )

    class Meta:
        ordering = ["version", "partner__slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "partner"], name="federation_party_once_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner.slug} in {self.version}"


class EnrollmentBatch(models.Model):
    """Many members of ``source`` invited into ``target``'s program at once (a campaign),
    enrolled by a Celery task in set-based steps, with progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    target = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    member_numbers = models.JSONField(help_text="The source's member numbers, as sent.")
    fields = models.JSONField(help_text="The fields asked for; empty for all allowed.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField()
    processed = models.PositiveIntegerField(default=0)
    enrolled = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    requested_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Enrollment batch {self.id} ({self.status})"


class Enrollment(models.Model):
    """A member of ``source`` joining ``target``'s program under an agreement.

    Sanpo keeps no copy of the member's data for the target: the target reads the allowed
    fields through the API, and each read is checked against the agreement and the member's
    consent at that moment and recorded as a provision.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Shared, awaiting the target's confirmation"
        CONFIRMED = "confirmed", "Confirmed by the target"
        ENDED = "ended", "Ended"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(
        "partners.MemberAccount", on_delete=models.PROTECT, related_name="enrollments"
    )
    source = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    target = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="enrollments")
    fields = models.JSONField(help_text="The member fields the target may read.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    requested_at = models.DateTimeField(default=timezone.now, db_index=True)
    requested_by = models.CharField(max_length=200)
    batch = models.ForeignKey(
        EnrollmentBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    target_member_number = models.CharField(max_length=64, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=300, blank=True)

    class Meta:
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
        return f"Enrollment {self.id} → {self.target_id} ({self.status})"


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
