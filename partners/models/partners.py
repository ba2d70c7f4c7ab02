"""Companies of the alliance, the people to reach there and the roles of Sanpo's staff."""

import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from partners.crypto import EncryptedTextField


class Partner(models.Model):
    """A company in the alliance: the host that owns the large member base, or a partner brand.

    Each partner has its own auth group, the principal that django-guardian grants object
    permissions to; its API keys and its staff act through that group.
    """

    class Kind(models.TextChoices):
        HOST = "host", _("Host (customer-base owner)")
        BRAND = "brand", _("Partner brand")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        OFFBOARDED = "offboarded", _("Offboarded")

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name_ja = models.CharField(_("name (Japanese)"), max_length=200)
    name_latin = models.CharField(_("name (Latin script)"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.BRAND)
    holds_customer_data = models.BooleanField(
        _("holds customer data"),
        default=True,
        help_text=_(
            "False for a mass-market brand that sells through retailers and has no member base "
            "of its own."
        ),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    group = models.OneToOneField(
        Group,
        on_delete=models.PROTECT,
        related_name="partner",
        editable=False,
        verbose_name=_("group"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["name_latin"]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
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
        BUSINESS = "business", pgettext_lazy("contact role", "Business")
        TECHNICAL = "technical", _("Technical")
        PRIVACY = "privacy", _("Privacy officer")
        BILLING = "billing", _("Billing")

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("partner")
    )
    role = models.CharField(_("role"), max_length=12, choices=Role.choices)
    name = EncryptedTextField(_("name"))
    email = EncryptedTextField(_("e-mail"))
    phone = EncryptedTextField(_("phone"), blank=True)

    class Meta:
        ordering = ["partner", "role", "id"]
        verbose_name = _("partner contact")
        verbose_name_plural = _("partner contacts")

    def __str__(self) -> str:
        return gettext("%(role)s contact of %(partner)s") % {
            "role": self.get_role_display(),
            "partner": self.partner.name_latin,
        }


class StaffRole(models.Model):
    """What a staff user is in Sanpo: alliance-wide, or staff of one partner."""

    class Role(models.TextChoices):
        ALLIANCE_MANAGER = "alliance_manager", _("Alliance manager")
        COMPLIANCE_REVIEWER = "compliance_reviewer", _("Compliance reviewer")
        PARTNER_ADMIN = "partner_admin", _("Partner admin")
        PARTNER_ANALYST = "partner_analyst", _("Partner analyst")

    PARTNER_ROLES = frozenset({Role.PARTNER_ADMIN, Role.PARTNER_ANALYST})

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sanpo_role",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    partner = models.ForeignKey(
        Partner,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("partner"),
    )

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
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
        values = {"user": self.user, "role": self.get_role_display()}
        if self.partner is None:
            return gettext("%(user)s — %(role)s") % values
        return gettext("%(user)s — %(role)s at %(partner)s") % {
            **values,
            "partner": self.partner.name_latin,
        }


class StaffPreference(models.Model):
    """What a signed-in person chose for themselves, kept across devices and sessions: the
    language the consoles answer them in (``config.middleware.LanguageMiddleware``). Set only
    by ``staff_language_set``, which audits it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="sanpo_preference",
        verbose_name=_("user"),
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("staff preference")
        verbose_name_plural = _("staff preferences")

    def __str__(self) -> str:
        return gettext("%(user)s: %(language)s") % {
            "user": self.user,
            "language": self.get_language_display(),
        }
