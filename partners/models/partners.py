"""Companies of the alliance, the people to reach there and the roles of Sanpo's staff."""

import uuid

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
