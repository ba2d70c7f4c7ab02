"""Companies of the alliance, their staff, their API credentials, webhooks, member bases and the
audit log: one module per concern, every model imported here so Django (and callers) find them
as ``partners.models``."""

from partners.models.audit import AuditEvent
from partners.models.credentials import ApiKey, ApiScope, IdempotencyKey
from partners.models.members import MemberAccount, MemberImport, Person
from partners.models.outbox import OutboxMessage
from partners.models.partners import Partner, PartnerContact, StaffPreference, StaffRole
from partners.models.webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSecret,
)

__all__ = [
    "ApiKey",
    "ApiScope",
    "AuditEvent",
    "IdempotencyKey",
    "MemberAccount",
    "MemberImport",
    "OutboxMessage",
    "Partner",
    "PartnerContact",
    "Person",
    "StaffPreference",
    "StaffRole",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookSecret",
]
