"""Expiry: coins past their lot's expiry leave the member's wallet for the issuer's breakage
account (breakage stays with the issuer), in batches of lots, set-based. Running it twice
changes nothing: an expired lot has no coins left."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from federation.coins.audit import CoinAuditAction
from federation.coins.models import CoinAccount, CoinLot, CoinLotUse, CoinTransaction
from federation.coins.services.ledger import Leg, accounts_of, post, shard_of
from partners.actors import Actor
from partners.models import Partner
from partners.services import audit_record, webhook_emit

Kind = CoinAccount.Kind


def coins_expire_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """Expire every spendable lot past its expiry; returns the coins expired."""
    now = now or timezone.now()
    expired = 0
    while True:
        with transaction.atomic():
            due = list(
                CoinLot.objects.select_for_update(skip_locked=True)
                .filter(expires_at__lte=now, remaining__gt=0)
                .exclude(pending_until__isnull=False, released_at=None)
                .order_by("expires_at", "id")
                .values_list("pk", "person_id", "issuer_id", "remaining", "yen_per_coin")[:batch]
            )
            if not due:
                return expired
            posted = post(CoinTransaction.Kind.EXPIRE, _legs(due), reason={"lots": len(due)})
            CoinLot.objects.filter(pk__in=[row[0] for row in due]).update(remaining=0)
            CoinLotUse.objects.bulk_create(
                CoinLotUse(
                    transaction=posted,
                    lot_id=pk,
                    issuer_id=issuer_id,
                    coins=coins,
                    yen_value=Decimal(coins) * yen,
                )
                for pk, _person, issuer_id, coins, yen in due
            )
            coins = sum(row[3] for row in due)
            _tell_issuers(due, posted)
            audit_record(
                action=CoinAuditAction.EXPIRED,
                actor=Actor.system(),
                target=posted,
                detail={"lots": len(due), "coins": coins},
            )
            expired += coins


def _legs(due: list[tuple[Any, ...]]) -> list[Leg]:
    """Each member's wallet down by their expiring coins; each issuer's breakage up by its."""
    wallets: dict[Any, int] = defaultdict(int)
    breakage: dict[tuple[Any, Any], int] = defaultdict(int)
    for _pk, person_id, issuer_id, coins, _yen in due:
        wallets[person_id] += coins
        breakage[(issuer_id, person_id)] += coins
    owned = accounts_of(Kind.WALLET, [(p, None, 0) for p in wallets])
    legs = [Leg(owned[(p, None, 0)], -coins) for p, coins in wallets.items()]
    kept = accounts_of(Kind.BREAKAGE, [(None, i, shard_of(p)) for i, p in breakage])
    legs += [Leg(kept[(None, i, shard_of(p))], coins) for (i, p), coins in breakage.items()]
    return legs


def _tell_issuers(due: list[tuple[Any, ...]], posted: CoinTransaction) -> None:
    """Each issuer hears how many of its coins expired (breakage stays with it)."""
    per_issuer: dict[Any, int] = defaultdict(int)
    for _pk, _person, issuer_id, coins, _yen in due:
        per_issuer[issuer_id] += coins
    for issuer in Partner.objects.filter(pk__in=per_issuer):
        webhook_emit(
            partner=issuer,
            event_type="coins.expired",
            data={"coins": per_issuer[issuer.pk], "transaction_id": str(posted.pk)},
        )
