"""The audit log: who did what to which object, written with the action itself."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from partners.audit_actions import audit_action_label
from partners.models.credentials import ApiKey
from partners.models.partners import Partner


class AuditEvent(models.Model):
    """Security-relevant actions, written in the same transaction as the action itself."""

    class Action(models.TextChoices):
        """The partners app's own actions; every app registers its own (partners.audit_actions),
        so the column has no fixed choices and a new feature needs no partners migration."""

        PARTNER_CREATED = "partner.created", _("Partner created")
        PARTNER_UPDATED = "partner.updated", _("Partner details changed")
        PARTNER_SUSPENDED = "partner.suspended", _("Partner suspended")
        PARTNER_RESUMED = "partner.resumed", _("Partner resumed")
        PARTNER_OFFBOARDED = "partner.offboarded", _("Partner offboarded")
        STAFF_ROLE_SET = "staff.role_set", _("Staff role set")
        STAFF_ROLE_REMOVED = "staff.role_removed", _("Staff role removed")
        STAFF_LANGUAGE_SET = "staff.language_set", _("Staff language set")
        API_KEY_ISSUED = "api_key.issued", _("API key issued")
        API_KEY_REVOKED = "api_key.revoked", _("API key revoked")
        API_KEY_ROTATED = "api_key.rotated", _("API key rotated")
        API_KEY_REJECTED = "api_key.rejected", _("API key refused")
        PERMISSION_GRANTED = "permission.granted", _("Object permission granted")
        PERMISSION_REMOVED = "permission.removed", _("Object permission removed")
        WEBHOOK_CREATED = "webhook.created", _("Webhook endpoint created")
        WEBHOOK_UPDATED = "webhook.updated", _("Webhook endpoint updated")
        WEBHOOK_DELETED = "webhook.deleted", _("Webhook endpoint deleted")
        WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated", _("Webhook secret rotated")
        MEMBER_CREATED = "member.created", _("Member account created")
        MEMBER_UPDATED = "member.updated", _("Member account updated")
        MEMBER_DEACTIVATED = "member.deactivated", _("Member account deactivated")
        MEMBER_BULK_UPSERTED = "member.bulk_upserted", _("Member accounts written in bulk")
        MEMBER_ERASED = "member.erased", _("Member account erased")
        MEMBER_PERSONAL_DATA_VIEWED = "member.viewed", _("Member personal data viewed")
        MEMBER_IMPORT_STARTED = "member_import.started", _("Member import started")
        MEMBER_IMPORT_FINISHED = "member_import.finished", _("Member import finished")
        MEMBER_KEYS_ROTATED = "member.keys_rotated", _("Member keys rotated")
        DATA_INTEGRITY_FAILED = "data.integrity_failed", _("Stored data failed its integrity check")
        DATA_KEY_UNAVAILABLE = "data.key_unavailable", _("Stored data under a key not configured")
        TOKEN_REFUSED = "token.refused", _("Tampered or foreign token refused")

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("Success")
        DENIED = "denied", _("Denied")

    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now, db_index=True)
    action = models.CharField(_("action"), max_length=40, db_index=True)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor user"),
    )
    actor_api_key = models.ForeignKey(
        ApiKey,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor API key"),
    )
    actor_label = models.CharField(_("actor"), max_length=200)
    partner = models.ForeignKey(
        Partner,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("partner"),
    )
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object ID"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return gettext("%(time)s %(action)s by %(actor)s") % {
            "time": f"{self.occurred_at:%Y-%m-%d %H:%M}",
            "action": self.action,
            "actor": self.actor_label,
        }

    @property
    def action_label(self) -> str:
        return audit_action_label(self.action)
