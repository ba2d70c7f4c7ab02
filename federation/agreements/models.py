"""Co-marketing agreements between the host and partner brands.

An ``Agreement`` is the lasting relationship; its terms live in numbered, immutable-once-proposed
``AgreementVersion`` rows. An amendment (new terms, a company added) is a new version that every
party of it signs (``AgreementParty.signed_at``) and that takes effect on its date. Only the
newest fully signed version already in effect, of an agreement that is active, lets anything
happen: ``federation.agreements.selectors.terms_in_force`` is the one place that answers what
it allows.
"""

import uuid
from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.crypto import EncryptedTextField
from partners.models import Partner


class Agreement(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PROPOSED = "proposed", _("Proposed, awaiting signatures")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        TERMINATED = "terminated", _("Terminated")
        EXPIRED = "expired", _("Expired")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(_("title"), max_length=200)
    host = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("host")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    status_reason = models.CharField(_("reason for the status"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"], name="federation_agreement_status")]

    def __str__(self) -> str:
        return self.title

    @property
    def has_ended(self) -> bool:
        """Terminated or expired: nothing it allows happens again, and it is never amended."""
        return self.status in (self.Status.TERMINATED, self.Status.EXPIRED)


class AgreementVersion(models.Model):
    """One version of an agreement's terms. Editable while a draft; fixed once proposed.

    ``terms`` is the validated terms document (``federation.terms``): data flows with their
    purposes, fields and legal basis, coin terms, referral terms and overlap settings.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PROPOSED = "proposed", _("Proposed, awaiting signatures")
        SIGNED = "signed", _("Signed by every party")
        WITHDRAWN = "withdrawn", _("Withdrawn before every party signed")

    # Still open: a draft being written, or a proposal awaiting signatures. An agreement has
    # at most one open version at a time.
    OPEN: ClassVar[tuple[str, ...]] = (Status.DRAFT, Status.PROPOSED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.PROTECT,
        related_name="versions",
        verbose_name=_("agreement"),
    )
    # The fields the partner API's outputs take from the model (``AgreementVersionSummaryOutput``
    # and ``AgreementVersionOutput`` are model serializers) keep Django's English labels and
    # help: the API's schema shows them, and its documentation stays in English whatever
    # language is active. Nothing else shows them; the console labels its own pages.
    number = models.PositiveIntegerField()
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    effective_from = models.DateField()
    valid_until = models.DateField()
    terms = models.JSONField(_("terms"))
    terms_sha256 = models.CharField(max_length=64)
    summary = models.CharField(max_length=300, blank=True, help_text="What this version changes.")
    created_at = models.DateTimeField(_("drafted at"), default=timezone.now, editable=False)
    created_by = models.CharField(_("drafted by"), max_length=200)
    proposed_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True, help_text="When the last party signed.")

    class Meta:
        verbose_name = _("agreement version")
        verbose_name_plural = _("agreement versions")
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

    version = models.ForeignKey(
        AgreementVersion,
        on_delete=models.PROTECT,
        related_name="parties",
        verbose_name=_("version"),
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    contact_name = EncryptedTextField(_("contact name"))
    contact_email = EncryptedTextField(_("contact e-mail"))
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    signed_by = models.CharField(
        _("signed by"),
        max_length=200,
        blank=True,
        help_text=_("Who signed for the party, and through what."),
    )

    class Meta:
        verbose_name = _("agreement party")
        verbose_name_plural = _("agreement parties")
        ordering = ["version", "partner__slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "partner"], name="federation_party_once_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner.slug} in {self.version}"
