"""What settlement adds to the registries below it, from ``FederationConfig.ready``: its error
codes, audit actions and webhook events."""

from federation.settlement.audit import SettlementAuditAction
from federation.settlement.errors import STATUSES, SettlementErrorCode
from partners.audit_actions import register_audit_actions
from partners.errors import register_error_codes
from partners.webhook_events import register_event_types

WEBHOOK_EVENTS = {
    "settlement.review_opened": "A settlement period your company has lines in is open for "
    "review: its provisional figures can be read and disputed.",
    "settlement.locked": "A settlement period your company has lines in was locked: its "
    "figures are final.",
    "settlement.statement_issued": "Your company's statement of a settlement period was issued.",
    "settlement.statement_acknowledged": "A company acknowledged its issued statement of a "
    "settlement period (sent to the host).",
    "settlement.paid": "Every payment of a settlement period your company has lines in was "
    "recorded.",
    "settlement.dispute_raised": "A company raised a dispute on a settlement line your company "
    "is a party of.",
    "settlement.dispute_resolved": "A dispute on a settlement line your company is a party of "
    "was resolved by the host.",
}


def register() -> None:
    register_event_types(WEBHOOK_EVENTS)
    register_error_codes(SettlementErrorCode, STATUSES)
    register_audit_actions(SettlementAuditAction)
