"""The audit log: who did what to which object, written with the action itself."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from partners.audit_actions import audit_action_label
from partners.models.credentials import ApiKey
from partners.models.partners import Partner


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
