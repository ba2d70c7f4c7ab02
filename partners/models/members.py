"""Member bases: the partners' member accounts, the persons they are believed to be, and the
bulk imports that fill them."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from partners.models.partners import Partner


class Person(models.Model):
    """One human (or one business) across the alliance: the member accounts that partners hold
    for them, linked by blind index. Holds no personal data itself, and is never shown to a
    partner; partners only ever see their own member numbers and their own pseudonymous ids."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"Person {str(self.id)[:8]}"


class MemberAccount(models.Model):
    """A partner's member: its own member number, encrypted personal data, coarse segment
    attributes, and the person it is believed to be.

    Personal fields are ``*_sealed`` columns: AES-GCM under this account's own data key, which
    is stored wrapped by a master key (see ``partners.pii``). The natural key (partner, member
    number) is bound into every ciphertext, so the member number never changes once issued.
    """

    class Kind(models.TextChoices):
        HOUSEHOLD = "household", "Household"
        BUSINESS = "business", "Business"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"
        ERASED = "erased", "Erased"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="members")
    member_number = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)

    master_key_id = models.CharField(max_length=16)
    wrapped_key = models.BinaryField(null=True)
    name_sealed = models.BinaryField(null=True)
    name_kana_sealed = models.BinaryField(null=True)
    email_sealed = models.BinaryField(null=True)
    phone_sealed = models.BinaryField(null=True)
    postal_code_sealed = models.BinaryField(null=True)
    address_sealed = models.BinaryField(null=True)
    birth_date_sealed = models.BinaryField(null=True)

    index_key_id = models.CharField(max_length=16)
    email_index = models.BinaryField(null=True)
    phone_index = models.BinaryField(null=True)
    record_digest = models.BinaryField()

    # Segment attributes, kept in clear because they are coarse: the year (not date) of birth,
    # from which age bands are computed on the day they are used; the prefecture code.
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    prefecture = models.CharField(max_length=2, blank=True)
    joined_on = models.DateField(null=True, blank=True)
    last_active_on = models.DateField(null=True, blank=True)
    SEGMENT_FIELDS = ("birth_year", "prefecture", "joined_on", "last_active_on")

    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="accounts"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["partner", "member_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "member_number"], name="partners_member_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(status="erased") | Q(wrapped_key__isnull=False),
                name="partners_member_key_unless_erased",
            ),
        ]
        indexes = [
            models.Index(fields=["index_key_id", "email_index"], name="partners_member_email_idx"),
            models.Index(fields=["index_key_id", "phone_index"], name="partners_member_phone_idx"),
            models.Index(
                fields=["partner"],
                condition=Q(person__isnull=True),
                name="partners_member_unlinked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_number} ({self.get_kind_display()})"


class MemberImport(models.Model):
    """One bulk import of a member base file: its options, progress and outcome.

    Rows are validated and sealed into a staging table chunk by chunk, each chunk committed with
    the byte offset reached, so a crashed import resumes where it stopped. Nothing reaches the
    member accounts until the whole file is staged; then one transaction applies it.
    """

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSONL = "jsonl", "JSON Lines"

    class Mode(models.TextChoices):
        UPSERT = "upsert", "Create new members and update changed ones"
        CREATE = "create", "Create new members only (existing numbers are errors)"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to start"
        STAGING = "staging", "Reading and validating"
        APPLYING = "applying", "Applying"
        COMPLETED = "completed", "Completed"
        REJECTED = "rejected", "Rejected: errors in rows, nothing imported"
        FAILED = "failed", "Refused: the file cannot be read, nothing imported"

    FINISHED_STATUSES = (Status.COMPLETED, Status.REJECTED, Status.FAILED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="member_imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.FileField(upload_to="member-imports/%Y/%m/", max_length=300)
    original_name = models.CharField(max_length=255)
    file_size = models.PositiveBigIntegerField(default=0)
    file_sha256 = models.CharField(max_length=64, blank=True)
    format = models.CharField(max_length=5, choices=Format.choices, default=Format.CSV)
    encoding = models.CharField(max_length=12, default="auto", help_text="auto, utf-8 or shift_jis")
    mode = models.CharField(max_length=6, choices=Mode.choices, default=Mode.UPSERT)
    skip_invalid_rows = models.BooleanField(
        default=False,
        help_text="Import the valid rows even if some rows have errors (they are reported).",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)

    resolved_encoding = models.CharField(max_length=12, blank=True)
    header = models.JSONField(default=list, blank=True)
    bytes_done = models.PositiveBigIntegerField(default=0)
    lines_done = models.PositiveBigIntegerField(default=0)
    rows_staged = models.PositiveBigIntegerField(default=0)
    rows_invalid = models.PositiveBigIntegerField(default=0)
    rows_created = models.PositiveBigIntegerField(default=0)
    rows_updated = models.PositiveBigIntegerField(default=0)
    rows_unchanged = models.PositiveBigIntegerField(default=0)
    persons_linked = models.PositiveBigIntegerField(default=0)
    errors = models.FileField(upload_to="member-imports/errors/%Y/%m/", blank=True, max_length=300)
    failure = models.TextField(blank=True, help_text="Why the whole file was refused.")

    # The run currently holding the job (a lease renewed with every chunk), so a resumed run
    # and a stalled one never stage the same rows.
    runner = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    staged_at = models.DateTimeField(
        null=True, blank=True, help_text="When the whole file had been read and staged."
    )
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} → {self.partner.slug} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED_STATUSES

    @property
    def progress_percent(self) -> int:
        if self.is_finished:
            return 100
        if not self.file_size:
            return 0
        return min(99, self.bytes_done * 100 // self.file_size)
