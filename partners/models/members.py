"""Member bases: the partners' member accounts, the persons they are believed to be, and the
bulk imports that fill them."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from partners.models.partners import Partner


class Person(models.Model):
    """One human (or one business) across the alliance: the member accounts that partners hold
    for them, linked by blind index. Holds no personal data itself, and is never shown to a
    partner; partners only ever see their own member numbers and their own pseudonymous ids."""

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")

    def __str__(self) -> str:
        return gettext("Person %(id)s") % {"id": str(self.id)[:8]}


class MemberAccount(models.Model):
    """A partner's member: its own member number, encrypted personal data, coarse segment
    attributes, and the person it is believed to be.

    Personal fields are ``*_sealed`` columns: AES-GCM under this account's own data key, which
    is stored wrapped by a master key (see ``partners.pii``). The natural key (partner, member
    number) is bound into every ciphertext, so the member number never changes once issued.
    """

    class Kind(models.TextChoices):
        HOUSEHOLD = "household", _("Household")
        BUSINESS = "business", pgettext_lazy("member kind", "Business")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")
        ERASED = "erased", _("Erased")

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="members", verbose_name=_("partner")
    )
    member_number = models.CharField(_("member number"), max_length=64)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )

    master_key_id = models.CharField(_("master key ID"), max_length=16)
    wrapped_key = models.BinaryField(_("wrapped data key"), null=True)
    name_sealed = models.BinaryField(_("name (sealed)"), null=True)
    name_kana_sealed = models.BinaryField(_("name in kana (sealed)"), null=True)
    email_sealed = models.BinaryField(_("e-mail (sealed)"), null=True)
    phone_sealed = models.BinaryField(_("phone (sealed)"), null=True)
    postal_code_sealed = models.BinaryField(_("postal code (sealed)"), null=True)
    address_sealed = models.BinaryField(_("address (sealed)"), null=True)
    birth_date_sealed = models.BinaryField(_("birth date (sealed)"), null=True)

    index_key_id = models.CharField(_("blind index key ID"), max_length=16)
    email_index = models.BinaryField(_("e-mail index"), null=True)
    phone_index = models.BinaryField(_("phone index"), null=True)
    record_digest = models.BinaryField(_("record digest"))

    # Segment attributes, kept in clear because they are coarse: the year (not date) of birth,
    # from which age bands are computed on the day they are used; the prefecture code.
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    prefecture = models.CharField(_("prefecture"), max_length=2, blank=True)
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    last_active_on = models.DateField(_("last active on"), null=True, blank=True)
    SEGMENT_FIELDS = ("birth_year", "prefecture", "joined_on", "last_active_on")

    person = models.ForeignKey(
        Person,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("person"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        ordering = ["partner", "member_number"]
        verbose_name = _("member account")
        verbose_name_plural = _("member accounts")
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
        CSV = "csv", _("CSV")
        JSONL = "jsonl", _("JSON Lines")

    class Mode(models.TextChoices):
        UPSERT = "upsert", _("Create new members and update changed ones")
        CREATE = "create", _("Create new members only (existing numbers are errors)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to start")
        STAGING = "staging", _("Reading and validating")
        APPLYING = "applying", _("Applying")
        COMPLETED = "completed", _("Completed")
        REJECTED = "rejected", _("Rejected: errors in rows, nothing imported")
        FAILED = "failed", _("Refused: the file cannot be read, nothing imported")

    FINISHED_STATUSES = (Status.COMPLETED, Status.REJECTED, Status.FAILED)

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        related_name="member_imports",
        verbose_name=_("partner"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    source = models.FileField(_("file"), upload_to="member-imports/%Y/%m/", max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    file_size = models.PositiveBigIntegerField(_("file size"), default=0)
    file_sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, blank=True)
    format = models.CharField(_("format"), max_length=5, choices=Format.choices, default=Format.CSV)
    encoding = models.CharField(
        _("encoding"), max_length=12, default="auto", help_text=_("auto, utf-8 or shift_jis")
    )
    mode = models.CharField(_("mode"), max_length=6, choices=Mode.choices, default=Mode.UPSERT)
    skip_invalid_rows = models.BooleanField(
        _("skip invalid rows"),
        default=False,
        help_text=_("Import the valid rows even if some rows have errors (they are reported)."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    # Its run writes row errors and the reason for a refusal in this language: the uploader's.
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )

    resolved_encoding = models.CharField(_("encoding read"), max_length=12, blank=True)
    header = models.JSONField(_("header"), default=list, blank=True)
    bytes_done = models.PositiveBigIntegerField(_("bytes read"), default=0)
    lines_done = models.PositiveBigIntegerField(_("lines read"), default=0)
    rows_staged = models.PositiveBigIntegerField(_("rows staged"), default=0)
    rows_invalid = models.PositiveBigIntegerField(_("rows invalid"), default=0)
    rows_created = models.PositiveBigIntegerField(_("rows created"), default=0)
    rows_updated = models.PositiveBigIntegerField(_("rows updated"), default=0)
    rows_unchanged = models.PositiveBigIntegerField(_("rows unchanged"), default=0)
    persons_linked = models.PositiveBigIntegerField(_("persons linked"), default=0)
    errors = models.FileField(
        _("error report"), upload_to="member-imports/errors/%Y/%m/", blank=True, max_length=300
    )
    failure = models.TextField(
        _("failure"), blank=True, help_text=_("Why the whole file was refused.")
    )

    # The run currently holding the job (a lease renewed with every chunk), so a resumed run
    # and a stalled one never stage the same rows.
    runner = models.UUIDField(_("runner"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    staged_at = models.DateTimeField(
        _("staged at"),
        null=True,
        blank=True,
        help_text=_("When the whole file had been read and staged."),
    )
    heartbeat_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("member import")
        verbose_name_plural = _("member imports")

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
