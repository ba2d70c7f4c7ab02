"""Coin tasks, scheduled by beat: pending coins released when their return window closes,
coins past their expiry moved to breakage, and uncaptured holds given back. Each is set-based
and idempotent: a second run, or two workers at once, changes nothing more (the rows each
takes are locked, the others skipped)."""

from celery import shared_task

from federation.coins.services import (
    coin_entry_partitions_maintain,
    coins_expire_due,
    coins_release_due,
    holds_expire_due,
)


@shared_task(name="federation.tasks.release_pending_coins")
def release_pending_coins() -> int:
    """Release the pending lots whose return window has closed; returns how many."""
    return coins_release_due()


@shared_task(name="federation.tasks.expire_coins")
def expire_coins() -> int:
    """Expire the coins past their lot's expiry; returns how many coins."""
    return coins_expire_due()


@shared_task(name="federation.tasks.expire_coin_holds")
def expire_coin_holds() -> int:
    """Give back the coins of holds that were neither captured nor voided in time."""
    return holds_expire_due()


@shared_task(name="federation.tasks.maintain_coin_entry_partitions")
def maintain_coin_entry_partitions() -> list[str]:
    """Daily: the next months' partitions of the coin entries made ahead of time."""
    return coin_entry_partitions_maintain()
