"""Companies of the alliance, their staff, their API credentials, webhooks and the audit log."""

import uuid
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils import timezone

from partners.audit_actions import audit_action_label
from partners.crypto import EncryptedTextField


class Partner(models.Model):
    """A company in the alliance: the host that owns the large member base, or a partner brand.

    Each partner has its own auth group, the principal that django-guardian grants object
    permissions to; its API keys and its staff act through that group.
    """

    class Kind(models.TextChoices):
        HOST = "host", "Host (customer-base owner)"
        BRAND = "brand", "Partner brand"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        OFFBOARDED = "offboarded", "Offboarded"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=50, unique=True)
    name_ja = models.CharField("name (Japanese)", max_length=200)
    name_latin = models.CharField("name (Latin script)", max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.BRAND)
    holds_customer_data = models.BooleanField(
        default=True,
        help_text="False for a mass-market brand that sells through retailers and has no "
        "member base of its own.",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    status_changed_at = models.DateTimeField(default=timezone.now)
    group = models.OneToOneField(
        Group, on_delete=models.PROTECT, related_name="partner", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name_latin"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=Q(kind="host"), name="partners_partner_single_host"
            ),
            models.CheckConstraint(
                condition=Q(kind="brand") | Q(holds_customer_data=True),
                name="partners_partner_host_holds_data",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_latin} ({self.name_ja})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class PartnerContact(models.Model):
    """A person to reach at a partner. Names and addresses are personal data: encrypted."""

    class Role(models.TextChoices):
        BUSINESS = "business", "Business"
        TECHNICAL = "technical", "Technical"
        PRIVACY = "privacy", "Privacy officer"
        BILLING = "billing", "Billing"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="contacts")
    role = models.CharField(max_length=12, choices=Role.choices)
    name = EncryptedTextField()
    email = EncryptedTextField()
    phone = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["partner", "role", "id"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} contact of {self.partner.name_latin}"


class StaffRole(models.Model):
    """What a staff user is in Sanpo: alliance-wide, or staff of one partner."""

    class Role(models.TextChoices):
        ALLIANCE_MANAGER = "alliance_manager", "Alliance manager"
        COMPLIANCE_REVIEWER = "compliance_reviewer", "Compliance reviewer"
        PARTNER_ADMIN = "partner_admin", "Partner admin"
        PARTNER_ANALYST = "partner_analyst", "Partner analyst"

    PARTNER_ROLES = frozenset({Role.PARTNER_ADMIN, Role.PARTNER_ANALYST})

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sanpo_role"
    )
    role = models.CharField(max_length=24, choices=Role.choices)
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, null=True, blank=True, related_name="staff"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role__in=["partner_admin", "partner_analyst"], partner__isnull=False)
                    | Q(role__in=["alliance_manager", "compliance_reviewer"], partner__isnull=True)
                ),
                name="partners_staffrole_partner_iff_partner_role",
            )
        ]

    def __str__(self) -> str:
        where = f" at {self.partner.name_latin}" if self.partner is not None else ""
        return f"{self.user} — {self.get_role_display()}{where}"


class ApiScope(models.TextChoices):
    """What an API key may do. Features add their own scopes here as they arrive."""

    READ = "read", "Read"
    WRITE = "write", "Write"
    ADMIN = "admin", "Manage API keys and webhooks"


class ApiKey(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    lookup = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by_key = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaces"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (sanpo_{self.lookup}_…)"

    @property
    def masked(self) -> str:
        return f"sanpo_{self.lookup}_…"

    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())


class IdempotencyKey(models.Model):
    """The first response to a partner's POST, replayed when the same request is retried."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    request_digest = models.CharField(max_length=64)
    state = models.CharField(max_length=12, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "key"], name="partners_idempotencykey_unique_per_partner"
            )
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"


class WebhookEndpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.partner.slug}: {self.url}"


class WebhookSecret(models.Model):
    """A signing secret. After a rotation the old one keeps signing until it expires, so a
    receiver can switch at its own pace: deliveries carry one signature per live secret."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="secrets")
    secret = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Signing secret created {self.created_at:%Y-%m-%d}"


class WebhookDelivery(models.Model):
    """One event for one endpoint. Its attempts are logged in WebhookAttempt."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed (gave up)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event_id = models.UUIDField(db_index=True)
    event_type = models.CharField(max_length=100)
    payload = models.JSONField()
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="partners_delivery_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint.url}"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "number"], name="partners_webhookattempt_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class AuditEvent(models.Model):
    """Security-relevant actions, written in the same transaction as the action itself."""

    class Action(models.TextChoices):
        """The partners app's own actions; every app registers its own (partners.audit_actions),
        so the column has no fixed choices and a new feature needs no partners migration."""

        PARTNER_CREATED = "partner.created", "Partner created"
        PARTNER_UPDATED = "partner.updated", "Partner details changed"
        PARTNER_SUSPENDED = "partner.suspended", "Partner suspended"
        PARTNER_RESUMED = "partner.resumed", "Partner resumed"
        PARTNER_OFFBOARDED = "partner.offboarded", "Partner offboarded"
        STAFF_ROLE_SET = "staff.role_set", "Staff role set"
        STAFF_ROLE_REMOVED = "staff.role_removed", "Staff role removed"
        API_KEY_ISSUED = "api_key.issued", "API key issued"
        API_KEY_REVOKED = "api_key.revoked", "API key revoked"
        API_KEY_ROTATED = "api_key.rotated", "API key rotated"
        API_KEY_REJECTED = "api_key.rejected", "API key refused"
        PERMISSION_GRANTED = "permission.granted", "Object permission granted"
        PERMISSION_REMOVED = "permission.removed", "Object permission removed"
        WEBHOOK_CREATED = "webhook.created", "Webhook endpoint created"
        WEBHOOK_UPDATED = "webhook.updated", "Webhook endpoint updated"
        WEBHOOK_DELETED = "webhook.deleted", "Webhook endpoint deleted"
        WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated", "Webhook secret rotated"
        MEMBER_CREATED = "member.created", "Member account created"
        MEMBER_UPDATED = "member.updated", "Member account updated"
        MEMBER_DEACTIVATED = "member.deactivated", "Member account deactivated"
        MEMBER_BULK_UPSERTED = "member.bulk_upserted", "Member accounts written in bulk"
        MEMBER_ERASED = "member.erased", "Member account erased"
        MEMBER_PERSONAL_DATA_VIEWED = "member.viewed", "Member personal data viewed"
        MEMBER_IMPORT_STARTED = "member_import.started", "Member import started"
        MEMBER_IMPORT_FINISHED = "member_import.finished", "Member import finished"
        MEMBER_KEYS_ROTATED = "member.keys_rotated", "Member keys rotated"
        DATA_INTEGRITY_FAILED = "data.integrity_failed", "Stored data failed its integrity check"
        DATA_KEY_UNAVAILABLE = "data.key_unavailable", "Stored data under a key not configured"
        TOKEN_REFUSED = "token.refused", "Tampered or foreign token refused"

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        DENIED = "denied", "Denied"

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=40, db_index=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    partner = models.ForeignKey(
        Partner, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action} by {self.actor_label}"

    @property
    def action_label(self) -> str:
        return audit_action_label(self.action)


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
        return self.status in (self.Status.COMPLETED, self.Status.REJECTED, self.Status.FAILED)

    @property
    def progress_percent(self) -> int:
        if self.is_finished:
            return 100
        if not self.file_size:
            return 0
        return min(99, self.bytes_done * 100 // self.file_size)
