"""A partner's webhook endpoints, their signing secrets, and every delivery and attempt."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from partners.crypto import EncryptedTextField
from partners.models.partners import Partner


class WebhookEndpoint(models.Model):
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="webhooks", verbose_name=_("partner")
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    is_active = models.BooleanField(_("is active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return f"{self.partner.slug}: {self.url}"


class WebhookSecret(models.Model):
    """A signing secret. After a rotation the old one keeps signing until it expires, so a
    receiver can switch at its own pace: deliveries carry one signature per live secret."""

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="secrets",
        verbose_name=_("endpoint"),
    )
    secret = EncryptedTextField(_("secret"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook signing secret")
        verbose_name_plural = _("webhook signing secrets")

    def __str__(self) -> str:
        return gettext("Signing secret created %(date)s") % {"date": f"{self.created_at:%Y-%m-%d}"}


class WebhookDelivery(models.Model):
    """One event for one endpoint. Its attempts are logged in WebhookAttempt."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed (gave up)")

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    event_id = models.UUIDField(_("event ID"), db_index=True)
    event_type = models.CharField(_("event type"), max_length=100)
    payload = models.JSONField(_("payload"))
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    attempt_count = models.PositiveSmallIntegerField(_("attempt count"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
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
    """One attempt of a delivery. On PostgreSQL both tables are partitioned by month of the
    delivery's ``created_at`` (README, "Partitioning"): the attempt carries a copy of it, and
    the database's foreign key is on ``(delivery_id, delivery_created_at)`` (migration
    ``partners.0013``), so Django's own single-column constraint is off."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        on_delete=models.CASCADE,
        related_name="attempts",
        verbose_name=_("delivery"),
        db_constraint=False,
        # The unique key below and the composite key's index both start with delivery_id.
        db_index=False,
    )
    # The delivery's created_at, copied when the attempt is written (its partition key).
    delivery_created_at = models.DateTimeField(_("delivery created at"), editable=False)
    number = models.PositiveSmallIntegerField(_("number"))
    started_at = models.DateTimeField(_("started at"))
    duration_ms = models.PositiveIntegerField(_("duration ms"))
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    response_excerpt = models.CharField(_("response excerpt"), max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        constraints = [
            # Widened by the partition key, which the delivery determines: still one attempt
            # of each number per delivery.
            models.UniqueConstraint(
                fields=["delivery", "number", "delivery_created_at"],
                name="partners_webhookattempt_unique_number",
            )
        ]

    def __str__(self) -> str:
        return gettext("Attempt %(number)s: %(result)s") % {
            "number": self.number,
            "result": self.status_code or self.error,
        }

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
