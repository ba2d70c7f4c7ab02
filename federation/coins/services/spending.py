"""Coins going out: redeemed at a company (directly, or through a hold captured at a
checkout), and expired. Every one takes coins from the member's lots oldest first and records
which issuer's coins went where (``CoinLotUse``), so settlement reads the ledger alone."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from federation.coins.audit import CoinAuditAction
from federation.coins.errors import CoinErrorCode
from federation.coins.models import CoinAccount, CoinHold, CoinTransaction
from federation.coins.services.ledger import Leg, company_account, member_account, post
from federation.coins.services.lots import lots_return, lots_spendable, lots_take
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import Partner, Person
from partners.services import audit_record, webhook_emit

Kind = CoinAccount.Kind
Tx = CoinTransaction.Kind

DEFAULT_HOLD_TIMEOUT = timedelta(minutes=15)


def coins_redeem(
    person: Person,
    merchant: Partner,
    coins: int,
    *,
    actor: Actor,
    reason: dict[str, Any] | None = None,
    now: datetime | None = None,
    issuers: Collection[uuid.UUID] | None = None,
) -> CoinTransaction:
    """Spend ``coins`` of the member's at ``merchant``, oldest lots first (of ``issuers``
    only, when given: the ones linked with ``merchant``); all or nothing."""
    now = now or timezone.now()
    with _refusing_beyond(person, issuers, now=now), transaction.atomic():
        posted = post(
            Tx.REDEEM,
            [
                Leg(member_account(person), -coins),
                Leg(company_account(Kind.REDEMPTION, merchant, person), coins),
            ],
            partner=merchant,
            reason=reason,
        )
        uses = lots_take(person, coins, posted, now=now, issuers=issuers)
        audit_record(
            action=CoinAuditAction.REDEEMED,
            actor=actor,
            partner=merchant,
            target=posted,
            detail={"coins": coins, "issuers": _by_issuer(uses), **(reason or {})},
        )
    return posted


def hold_authorise(
    person: Person,
    merchant: Partner,
    coins: int,
    *,
    actor: Actor,
    timeout: timedelta = DEFAULT_HOLD_TIMEOUT,
    reason: dict[str, Any] | None = None,
    now: datetime | None = None,
    issuers: Collection[uuid.UUID] | None = None,
) -> CoinHold:
    """Reserve ``coins`` for a checkout at ``merchant``: out of the available balance into the
    member's hold account, taken from the oldest lots now (so they cannot be spent twice; of
    ``issuers`` only, when given)."""
    now = now or timezone.now()
    with _refusing_beyond(person, issuers, now=now), transaction.atomic():
        posted = post(
            Tx.HOLD,
            [Leg(member_account(person), -coins), Leg(member_account(person, Kind.HOLD), coins)],
            partner=merchant,
            reason=reason,
        )
        lots_take(person, coins, posted, now=now, issuers=issuers)
        hold = CoinHold.objects.create(
            person=person,
            merchant=merchant,
            coins=coins,
            held_by=posted,
            created_at=now,
            expires_at=now + timeout,
        )
        audit_record(
            action=CoinAuditAction.HELD,
            actor=actor,
            partner=merchant,
            target=hold,
            detail={"coins": coins, "expires_at": hold.expires_at.isoformat()},
        )
    return hold


def hold_capture(
    hold: CoinHold, coins: int | None = None, *, actor: Actor, now: datetime | None = None
) -> CoinHold:
    """Spend ``coins`` of the hold (all of it by default) at its merchant and give the rest
    back. Refused (``hold_resolved``) once the hold is captured, voided or past its expiry."""
    now = now or timezone.now()
    with transaction.atomic():
        hold = _open_hold(hold, now=now)
        coins = hold.coins if coins is None else coins
        if not 0 < coins <= hold.coins:
            raise ApplicationError(
                CoinErrorCode.INSUFFICIENT_COINS,
                extra={"available": hold.coins, "requested": coins},
            )
        post(
            Tx.CAPTURE,
            [
                Leg(member_account(hold.person, Kind.HOLD), -coins),
                Leg(company_account(Kind.REDEMPTION, hold.merchant, hold.person), coins),
            ],
            partner=hold.merchant,
            reason={"hold": str(hold.pk)},
        )
        if coins < hold.coins:
            _give_back(hold, hold.coins - coins, Tx.VOID)
        hold.state, hold.captured, hold.resolved_at = CoinHold.State.CAPTURED, coins, now
        hold.save(update_fields=["state", "captured", "resolved_at"])
        _audit(CoinAuditAction.CAPTURED, hold, actor, captured=coins)
    return hold


def hold_void(hold: CoinHold, *, actor: Actor, now: datetime | None = None) -> CoinHold:
    """Give all the held coins back to the member's available balance, once."""
    now = now or timezone.now()
    with transaction.atomic():
        hold = _open_hold(hold, now=now)
        _give_back(hold, hold.coins, Tx.VOID)
        hold.state, hold.resolved_at = CoinHold.State.VOIDED, now
        hold.save(update_fields=["state", "resolved_at"])
        _audit(CoinAuditAction.VOIDED, hold, actor)
    return hold


def holds_expire_due(*, now: datetime | None = None, batch: int = 200) -> int:
    """Give back the coins of every open hold past its expiry; returns how many. Each hold is
    locked and resolved once, so two runs (or a run racing a capture) resolve it once."""
    now = now or timezone.now()
    expired = 0
    due = CoinHold.objects.filter(state=CoinHold.State.OPEN, expires_at__lte=now)
    for pk in due.order_by("expires_at").values_list("pk", flat=True)[:batch]:
        with transaction.atomic():
            hold = CoinHold.objects.select_for_update().get(pk=pk)
            if hold.state != CoinHold.State.OPEN:
                continue
            _give_back(hold, hold.coins, Tx.VOID)
            hold.state, hold.resolved_at = CoinHold.State.EXPIRED, now
            hold.save(update_fields=["state", "resolved_at"])
            _audit(CoinAuditAction.HOLD_EXPIRED, hold, Actor.system())
            webhook_emit(
                partner=hold.merchant,
                event_type="coins.hold_expired",
                data={"hold_id": str(hold.pk), "coins": hold.coins},
            )
            expired += 1
    return expired


@contextmanager
def _refusing_beyond(
    person: Person, issuers: Collection[uuid.UUID] | None, *, now: datetime
) -> Iterator[None]:
    """A spender restricted to some issuers is told what it may spend, never the wallet's
    whole balance (the wallet's own check refuses first when it holds too few in all)."""
    try:
        yield
    except ApplicationError as refused:
        if issuers is None or refused.code != CoinErrorCode.INSUFFICIENT_COINS:
            raise
        available = lots_spendable(person, now=now, issuers=issuers)
        raise ApplicationError(
            CoinErrorCode.INSUFFICIENT_COINS,
            extra={**refused.extra, "available": available},
        ) from None


def _open_hold(hold: CoinHold, *, now: datetime) -> CoinHold:
    locked = CoinHold.objects.select_for_update().get(pk=hold.pk)
    if locked.state != CoinHold.State.OPEN or locked.expires_at <= now:
        raise ApplicationError(CoinErrorCode.HOLD_RESOLVED, extra={"state": locked.state})
    return locked


def _give_back(hold: CoinHold, coins: int, kind: CoinTransaction.Kind) -> None:
    posted = post(
        kind,
        [
            Leg(member_account(hold.person, Kind.HOLD), -coins),
            Leg(member_account(hold.person), coins),
        ],
        partner=hold.merchant,
        reason={"hold": str(hold.pk)},
    )
    uses = hold.held_by.lot_uses.select_related("lot")
    lots_return(list(uses), coins, posted)


def _audit(action: CoinAuditAction, hold: CoinHold, actor: Actor, **detail: Any) -> None:
    audit_record(
        action=action,
        actor=actor,
        partner=hold.merchant,
        target=hold,
        detail={"coins": hold.coins, **detail},
    )


def _by_issuer(uses: list[Any]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for use in uses:
        totals[str(use.issuer_id)] = totals.get(str(use.issuer_id), 0) + use.coins
    return totals
