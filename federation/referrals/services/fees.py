"""A referral fee's life: opened pending when a conversion counts, locked when its review
period is over, settled when settlement posts it; reversed by a refund while pending, answered
by a clawback (a negative fee, locked at once for the next settlement) after that.

Settlement takes locked fees through ``selectors.locked_fees_between`` and marks what it
posted with ``referral_fees_settle``: the one hook between the two domains.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from federation.referrals.audit import ReferralAuditAction
from federation.referrals.models import ReferralConversion, ReferralFee
from partners.actors import Actor
from partners.services import audit_record, webhook_emit

Kind = ReferralConversion.Kind
State = ReferralFee.State


def fee_amount(conversion: ReferralConversion) -> Decimal | None:
    """What the conversion earns under its offer, in whole yen (a percentage floored), or
    None when its kind earns nothing (a lead under terms without a lead fee)."""
    offer = conversion.offer
    if conversion.kind == Kind.LEAD:
        return offer.lead_fee_yen
    if offer.sale_fee_yen is not None:
        return offer.sale_fee_yen
    if offer.sale_fee_percent is None:
        return None
    share = conversion.amount_yen * offer.sale_fee_percent / 100
    return share.to_integral_value(ROUND_FLOOR)


def fee_open(*, conversion: ReferralConversion, review_days: int) -> ReferralFee | None:
    """The pending fee of a conversion that counts, locking ``review_days`` from now; None
    when it earns nothing. Call inside the conversion's transaction."""
    amount = fee_amount(conversion)
    if amount is None:
        return None
    now = timezone.now()
    offer = conversion.offer
    return ReferralFee.objects.create(
        conversion=conversion,
        offer=offer,
        source_id=offer.source_id,
        destination_id=offer.destination_id,
        kind=ReferralFee.Kind.FEE,
        amount_yen=amount,
        state=State.PENDING,
        created_at=now,
        lock_after=now + timedelta(days=review_days),
    )


def fee_refund(*, conversion: ReferralConversion, reason: str) -> ReferralFee | None:
    """What a refund does to the conversion's fee: reverses it while pending; once locked or
    settled, opens a clawback of the same amount, locked at once. Returns the fee changed or
    the clawback, None when the conversion had no fee."""
    # Locked so the lock task, taking due fees with SKIP LOCKED, cannot lock it meanwhile.
    fee = (
        ReferralFee.objects.select_for_update()
        .filter(conversion=conversion, kind=ReferralFee.Kind.FEE)
        .first()
    )
    if fee is None or fee.state == State.REVERSED:
        return None
    now = timezone.now()
    if fee.state == State.PENDING:
        fee.state, fee.reversed_at, fee.reason = State.REVERSED, now, reason
        fee.save(update_fields=["state", "reversed_at", "reason"])
        return fee
    return ReferralFee.objects.create(
        conversion=conversion,
        offer_id=fee.offer_id,
        source_id=fee.source_id,
        destination_id=fee.destination_id,
        kind=ReferralFee.Kind.CLAWBACK,
        amount_yen=-fee.amount_yen,
        state=State.LOCKED,
        reason=reason,
        created_at=now,
        lock_after=now,
        locked_at=now,
    )


def referral_fees_lock_due(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Lock the pending fees whose review period is over, set-based, in batches; tell each
    source and destination (``referrals.fee_locked``) and audit each batch. Rows another
    worker holds are skipped, so two runs at once lock each fee once. Returns how many."""
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            due = list(
                ReferralFee.objects.select_for_update(skip_locked=True)
                .filter(state=State.PENDING, lock_after__lte=now)
                .order_by("id")
                .values_list("id", flat=True)[:batch]
            )
            if not due:
                return total
            ReferralFee.objects.filter(pk__in=due).update(state=State.LOCKED, locked_at=now)
            _announce_locked(due)
            audit_record(
                action=ReferralAuditAction.FEES_LOCKED,
                actor=Actor.system(),
                detail={"count": len(due), "first": due[0], "last": due[-1]},
            )
            total += len(due)


def _announce_locked(fee_ids: list[int]) -> None:
    rows = ReferralFee.objects.filter(pk__in=fee_ids).select_related("source", "destination")
    by_partner: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    partners = {}
    for fee in rows:
        view = {"fee_id": fee.pk, "offer_id": str(fee.offer_id), "amount_yen": str(fee.amount_yen)}
        by_partner[fee.source_id].append({**view, "role": "earned"})
        by_partner[fee.destination_id].append({**view, "role": "owed"})
        partners[fee.source_id], partners[fee.destination_id] = fee.source, fee.destination
    for partner_id, fees in by_partner.items():
        webhook_emit(
            partner=partners[partner_id], event_type="referrals.fee_locked", data={"fees": fees}
        )


def referral_fees_settle(*, fee_ids: Iterable[int], reference: str, actor: Actor) -> int:
    """Mark locked fees settled under settlement ``reference`` (the hook settlement calls for
    the fees it posted as lines); fees not locked are left alone. Returns how many."""
    ids = list(fee_ids)
    with transaction.atomic():
        settled = ReferralFee.objects.filter(pk__in=ids, state=State.LOCKED).update(
            state=State.SETTLED, settled_at=timezone.now(), settlement_reference=reference
        )
        audit_record(
            action=ReferralAuditAction.FEES_SETTLED,
            actor=actor,
            detail={"count": settled, "reference": reference},
        )
    return settled
