"""Locked referral fees into settlement: each becomes a fee line of the period its lock falls
in (or of the next open one, when that period is closed), the destination owing the source;
a clawback (a refund after the fee was locked) becomes a line the other way. The line and the
fee's move to settled commit together, so a fee is posted once, whatever runs at the same time
(the fee's row is taken with ``SKIP LOCKED``). When the alliance has no open period, the fee
stays locked and the next run posts it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from federation.referrals.models import ReferralFee
from federation.referrals.services.fees import referral_fees_settle
from federation.settlement.errors import SettlementErrorCode
from federation.settlement.models import SettlementLine
from federation.settlement.services import settlement_line_post
from partners.actors import Actor
from partners.errors import ApplicationError

State = ReferralFee.State


def referral_fees_post_due(*, batch: int = 500) -> int:
    """Post every locked, unsettled fee into settlement; returns how many were posted."""
    posted = 0
    due = ReferralFee.objects.filter(state=State.LOCKED).order_by("id").values_list("pk", flat=True)
    for fee_id in list(due[:batch]):
        try:
            posted += _post_one(fee_id)
        except ApplicationError as refused:
            if refused.code != SettlementErrorCode.NO_OPEN_PERIOD:
                raise
            return posted  # no period to post into yet: every later fee would wait as well
    return posted


def _post_one(fee_id: int) -> int:
    with transaction.atomic():
        fee = (
            ReferralFee.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("source", "destination", "offer__agreement__host", "conversion")
            .filter(pk=fee_id, state=State.LOCKED)
            .first()
        )
        if fee is None:  # settled meanwhile, or another run holds it
            return 0
        clawback = fee.kind == ReferralFee.Kind.CLAWBACK or fee.amount_yen < 0
        debtor, creditor = (
            (fee.source, fee.destination) if clawback else (fee.destination, fee.source)
        )
        line = settlement_line_post(
            host=fee.offer.agreement.host,
            on=timezone.localdate(fee.locked_at or timezone.now()),
            kind=SettlementLine.Kind.FEE,
            debtor=debtor,
            creditor=creditor,
            amount_yen=abs(fee.amount_yen),
            note=f"referral {'clawback' if clawback else 'fee'} {fee.pk}, "
            f"order {fee.conversion.order_id}",
            actor=Actor.system(),
        )
        referral_fees_settle(fee_ids=[fee.pk], reference=str(line.pk), actor=Actor.system())
    return 1
