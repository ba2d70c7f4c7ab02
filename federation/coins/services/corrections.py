"""Corrections are reversals: a posting mirrored by a new one that names it, never an edit.

What can be reversed, and how the lots follow:
- an earn whose coins are all still there: the lot is emptied (a partly spent purchase is
  corrected by a refund instead, which records what could not be taken back);
- a redemption: the coins go back to the lots they came from, newest first.
Holds resolve through capture, void and expiry; expiry, release and refunds are not reversed.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F

from federation.coins.audit import CoinAuditAction
from federation.coins.errors import CoinErrorCode
from federation.coins.models import CoinLot, CoinLotUse, CoinTransaction
from federation.coins.services.ledger import reverse
from federation.coins.services.lots import lots_return
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.services import audit_record

Tx = CoinTransaction.Kind
EARNINGS = {Tx.EARN_PURCHASE, Tx.EARN_ACTION, Tx.BONUS}


def coins_reverse(
    original: CoinTransaction, *, actor: Actor, reason: dict[str, Any] | None = None
) -> CoinTransaction:
    """Reverse ``original`` once (``already_reversed`` otherwise; a reversal is never itself
    reversed), keeping the lots and their lineage in step."""
    if original.kind not in EARNINGS | {Tx.REDEEM}:
        raise ApplicationError(CoinErrorCode.NOT_REVERSIBLE)
    with transaction.atomic():
        if original.kind in EARNINGS:
            lot = CoinLot.objects.select_for_update().get(earned_by=original)
            if lot.remaining != lot.amount:
                raise ApplicationError(
                    CoinErrorCode.NOT_REVERSIBLE, extra={"spent": lot.amount - lot.remaining}
                )
        reversal = reverse(original, partner=original.partner, reason=reason)
        if original.kind in EARNINGS:
            CoinLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - lot.amount)
            CoinLotUse.objects.create(
                transaction=reversal,
                lot=lot,
                issuer_id=lot.issuer_id,
                coins=lot.amount,
                yen_value=lot.amount * lot.yen_per_coin,
            )
        else:
            uses = list(original.lot_uses.select_related("lot"))
            lots_return(uses, sum(use.coins for use in uses), reversal)
        audit_record(
            action=CoinAuditAction.REVERSED,
            actor=actor,
            partner=original.partner,
            target=reversal,
            detail={"reverses": str(original.pk), **(reason or {})},
        )
    return reversal
