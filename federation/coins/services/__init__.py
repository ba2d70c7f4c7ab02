"""The coin domain's writes. ``ledger`` posts balanced transactions; everything that moves
coins posts through it: ``earning`` (earn, release pending, refund), ``spending`` (redeem,
holds), ``expiry``; ``programs`` and ``actions`` apply the agreement terms in force to what a
company reports (purchases, actions, refunds, redemptions)."""

from federation.coins.services.actions import ActionOutcome, action_of, coins_earn_for_action
from federation.coins.services.activity import activity_touch
from federation.coins.services.corrections import coins_reverse
from federation.coins.services.earning import Grant, coins_earn, coins_refund, coins_release_due
from federation.coins.services.expiry import coins_expire_due
from federation.coins.services.ledger import (
    Leg,
    account_for,
    company_account,
    liability_account,
    member_account,
    post,
    reverse,
)
from federation.coins.services.partitions import coin_entry_partitions_maintain
from federation.coins.services.programs import (
    Program,
    coins_earn_for_purchase,
    coins_hold_at,
    coins_redeem_at,
    coins_refund_order,
    program_for,
    purchase_coins,
)
from federation.coins.services.spending import (
    coins_redeem,
    hold_authorise,
    hold_capture,
    hold_void,
    holds_expire_due,
)

__all__ = [
    "ActionOutcome",
    "Grant",
    "Leg",
    "Program",
    "account_for",
    "action_of",
    "activity_touch",
    "coin_entry_partitions_maintain",
    "coins_earn",
    "coins_earn_for_action",
    "coins_earn_for_purchase",
    "coins_expire_due",
    "coins_hold_at",
    "coins_redeem",
    "coins_redeem_at",
    "coins_refund",
    "coins_refund_order",
    "coins_release_due",
    "coins_reverse",
    "company_account",
    "hold_authorise",
    "hold_capture",
    "hold_void",
    "holds_expire_due",
    "liability_account",
    "member_account",
    "post",
    "program_for",
    "purchase_coins",
    "reverse",
]
