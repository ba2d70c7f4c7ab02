"""Companies of the alliance, their staff, their API credentials, webhooks and the audit log."""

import uuid
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils import timezone

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
        PARTNER_CREATED = "partner.created", "Partner created"
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

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        DENIED = "denied", "Denied"

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=40, choices=Action.choices, db_index=True)
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
