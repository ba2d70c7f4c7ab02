"""What the coin domain adds to the registries below it, from ``FederationConfig.ready``: its
part of the agreement's terms document (``coin``), its error codes, audit actions and webhook
events."""

from federation.agreements.terms import register_terms_section
from federation.coins.audit import CoinAuditAction
from federation.coins.errors import STATUSES, CoinErrorCode
from federation.coins.terms import COIN_INPUTS, clean_coin_terms
from partners.audit_actions import register_audit_actions
from partners.errors import register_error_codes
from partners.webhook_events import register_event_types

WEBHOOK_EVENTS = {
    "coins.earned": "A member of yours earned coins at a partner company.",
    "coins.redeemed": "Coins your company issued were spent at a partner company: it will "
    "be settled at the value you funded them at.",
    "coins.expired": "Coins your company issued expired unspent (the breakage stays with you).",
    "coins.hold_expired": "A hold of coins at your checkout expired uncaptured: the coins went "
    "back to the member.",
}


def register() -> None:
    register_event_types(WEBHOOK_EVENTS)
    register_terms_section("coin", clean_coin_terms, inputs=COIN_INPUTS)
    register_error_codes(CoinErrorCode, STATUSES)
    register_audit_actions(CoinAuditAction)
