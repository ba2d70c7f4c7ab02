"""Writes for partners, credentials, webhooks and the audit log: the one door to those rows."""

from partners.services.audit import audit_record, audit_undecryptable
from partners.services.credentials import (
    IssuedKey,
    api_key_authenticate,
    api_key_issue,
    api_key_revoke,
    api_key_rotate,
)
from partners.services.grants import partner_grant, partner_revoke_grant
from partners.services.idempotency import (
    idempotency_claim,
    idempotency_complete,
    idempotency_purge_expired,
    idempotency_release,
)
from partners.services.matching import member_person
from partners.services.member_import import member_import_create, member_import_run
from partners.services.members import (
    BulkResult,
    member_bulk_upsert,
    member_create,
    member_deactivate,
    member_erase,
    member_reveal,
    member_update,
)
from partners.services.partners import (
    partner_create,
    partner_offboard,
    partner_resume,
    partner_suspend,
    partner_update,
    staff_language_set,
    staff_role_remove,
    staff_role_set,
)
from partners.services.webhook_due import DueAttempts, webhook_deliveries_attempt_due
from partners.services.webhook_retention import DeliveryRetention, webhook_deliveries_retain
from partners.services.webhooks import (
    webhook_attempt_delivery,
    webhook_emit,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_ping,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
    webhook_signing_secrets,
)

__all__ = [
    "BulkResult",
    "DeliveryRetention",
    "DueAttempts",
    "IssuedKey",
    "api_key_authenticate",
    "api_key_issue",
    "api_key_revoke",
    "api_key_rotate",
    "audit_record",
    "audit_undecryptable",
    "idempotency_claim",
    "idempotency_complete",
    "idempotency_purge_expired",
    "idempotency_release",
    "member_bulk_upsert",
    "member_create",
    "member_deactivate",
    "member_erase",
    "member_import_create",
    "member_import_run",
    "member_person",
    "member_reveal",
    "member_update",
    "partner_create",
    "partner_grant",
    "partner_offboard",
    "partner_resume",
    "partner_revoke_grant",
    "partner_suspend",
    "partner_update",
    "staff_language_set",
    "staff_role_remove",
    "staff_role_set",
    "webhook_attempt_delivery",
    "webhook_deliveries_attempt_due",
    "webhook_deliveries_retain",
    "webhook_emit",
    "webhook_endpoint_create",
    "webhook_endpoint_delete",
    "webhook_endpoint_ping",
    "webhook_endpoint_rotate_secret",
    "webhook_endpoint_update",
    "webhook_signing_secrets",
]
