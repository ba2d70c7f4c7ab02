"""Coins coming in: earned (for a purchase, an action, a reactivation), released from pending
when a return window closes, and taken back when a purchase is refunded."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from federation.coins.audit import CoinAuditAction
from federation.coins.errors import CoinErrorCode
from federation.coins.models import CoinAccount, CoinClawback, CoinLot, CoinLotUse, CoinTransaction
from federation.coins.services.ledger import (
    Leg,
    accounts_of,
    liability_account,
    member_account,
    post,
)
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import Partner, Person
from partners.services import audit_record

Kind = CoinAccount.Kind


@dataclass(frozen=True)
class Grant:
    """Coins to issue to ``person``, funded by ``issuer`` at ``yen_per_coin``. Pending until
    ``pending_until`` when given (the program's return window)."""

    person: Person
    issuer: Partner
    coins: int
    yen_per_coin: Decimal
    kind: CoinTransaction.Kind = CoinTransaction.Kind.EARN_PURCHASE
    reason: dict[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None
    pending_until: datetime | None = None


def coins_earn(
    grant: Grant, *, actor: Actor, now: datetime | None = None, reference: str = ""
) -> CoinTransaction:
    """Issue a lot of coins: the issuer's outstanding liability grows, the member's wallet (or
    pending account) with it, in one balanced posting; audited."""
    now = now or timezone.now()
    pending = grant.pending_until is not None and grant.pending_until > now
    target = member_account(grant.person, Kind.PENDING if pending else Kind.WALLET)
    with transaction.atomic():
        posted = post(
            grant.kind,
            [
                Leg(target, grant.coins),
                Leg(liability_account(grant.issuer, grant.person), -grant.coins),
            ],
            partner=grant.issuer,
            reason=grant.reason,
            reference=reference,
        )
        lot = CoinLot.objects.create(
            person=grant.person,
            issuer=grant.issuer,
            earned_by=posted,
            yen_per_coin=grant.yen_per_coin,
            amount=grant.coins,
            remaining=grant.coins,
            issued_at=now,
            pending_until=grant.pending_until if pending else None,
            expires_at=grant.expires_at,
        )
        audit_record(
            action=CoinAuditAction.EARNED,
            actor=actor,
            partner=grant.issuer,
            target=posted,
            detail={"coins": grant.coins, "lot": lot.pk, "pending": pending, **grant.reason},
        )
    return posted


def coins_release_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """Release every pending lot whose window has closed: one balanced posting per batch of
    lots (pending down, wallet up, per member), set-based; returns the lots released. Running
    it again releases nothing more."""
    now = now or timezone.now()
    released = 0
    while True:
        with transaction.atomic():
            due = list(
                CoinLot.objects.select_for_update(skip_locked=True)
                .filter(pending_until__lte=now, released_at=None, remaining__gt=0)
                .order_by("pending_until", "id")
                .values_list("pk", "person_id", "remaining")[:batch]
            )
            if not due:
                return released
            per_person: dict[Any, int] = defaultdict(int)
            for _pk, person_id, coins in due:
                per_person[person_id] += coins
            owners = [(person_id, None, 0) for person_id in per_person]
            pending, wallets = accounts_of(Kind.PENDING, owners), accounts_of(Kind.WALLET, owners)
            legs = []
            for owner, coins in zip(owners, per_person.values(), strict=True):
                legs += [Leg(pending[owner], -coins), Leg(wallets[owner], coins)]
            posted = post(CoinTransaction.Kind.RELEASE, legs, reason={"lots": len(due)})
            CoinLot.objects.filter(pk__in=[pk for pk, _p, _c in due]).update(released_at=now)
            audit_record(
                action=CoinAuditAction.RELEASED,
                actor=Actor.system(),
                target=posted,
                detail={"lots": len(due), "members": len(per_person)},
            )
            released += len(due)


def coins_refund(
    earned: CoinTransaction, coins: int, *, actor: Actor, reason: dict[str, Any] | None = None
) -> CoinClawback:
    """Take back up to ``coins`` of what ``earned`` issued, from what is left of its lot:
    pending coins are simply cancelled; coins the member already spent cannot be taken back
    (the wallet never goes below zero) and are recorded as the shortfall, for settlement."""
    with transaction.atomic():
        lot = CoinLot.objects.select_for_update().filter(earned_by=earned).first()
        if lot is None:
            raise ApplicationError(CoinErrorCode.NOTHING_TO_REFUND)
        already = sum(
            CoinClawback.objects.filter(earned_by=earned).values_list("requested", flat=True)
        )
        if earned.reversals.exists():  # reversed whole: nothing of it is left to refund
            already = lot.amount
        if coins <= 0 or coins > lot.amount - already:
            raise ApplicationError(
                CoinErrorCode.NOTHING_TO_REFUND, extra={"refundable": lot.amount - already}
            )
        pending = lot.pending_until is not None and lot.released_at is None
        recovered = min(coins, lot.remaining)
        refund = None
        if recovered:
            account = member_account(lot.person, Kind.PENDING if pending else Kind.WALLET)
            refund = post(
                CoinTransaction.Kind.REFUND,
                [
                    Leg(account, -recovered),
                    Leg(liability_account(lot.issuer, lot.person), recovered),
                ],
                partner=lot.issuer,
                reason={**(reason or {}), "earned_by": str(earned.pk)},
            )
            CoinLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - recovered)
            CoinLotUse.objects.create(
                transaction=refund,
                lot=lot,
                issuer=lot.issuer,
                coins=recovered,
                yen_value=recovered * lot.yen_per_coin,
            )
        clawback = CoinClawback.objects.create(
            earned_by=earned,
            refund=refund,
            issuer=lot.issuer,
            requested=coins,
            recovered=recovered,
            shortfall=coins - recovered,
            shortfall_yen=(coins - recovered) * lot.yen_per_coin,
        )
        audit_record(
            action=CoinAuditAction.REFUNDED,
            actor=actor,
            partner=lot.issuer,
            target=earned,
            detail={"requested": coins, "recovered": recovered, **(reason or {})},
        )
    return clawback
