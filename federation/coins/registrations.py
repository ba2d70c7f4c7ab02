"""What the coin domain adds to the registries below it, from ``FederationConfig.ready``: its
error codes and audit actions."""

from federation.coins.audit import CoinAuditAction
from federation.coins.errors import STATUSES, CoinErrorCode
from partners.audit_actions import register_audit_actions
from partners.errors import register_error_codes


def register() -> None:
    register_error_codes(CoinErrorCode, STATUSES)
    register_audit_actions(CoinAuditAction)
