"""Referral tasks, scheduled by beat: fees whose review period is over are locked and posted
into settlement; clicks past their retention period are purged. Set-based and idempotent: a
second run, or two workers at once, locks nothing twice (the rows each takes are locked, the
others skipped)."""

from celery import shared_task

from federation.referrals.services import (
    referral_click_partitions_maintain,
    referral_clicks_purge,
    referral_fees_lock_due,
    referral_fees_post_due,
)


@shared_task(name="federation.tasks.lock_referral_fees")
def lock_referral_fees() -> int:
    """Lock the pending referral fees whose review period is over, then post every locked fee
    into settlement (the period its lock falls in, or the next open one); returns how many
    were locked."""
    locked = referral_fees_lock_due()
    referral_fees_post_due()
    return locked


@shared_task(name="federation.tasks.purge_referral_clicks")
def purge_referral_clicks() -> int:
    """Delete the clicks past ``SANPO_REFERRAL_CLICK_RETENTION_DAYS`` that no conversion
    names (blanking the fingerprint of those one does); returns how many were deleted."""
    return referral_clicks_purge()


@shared_task(name="federation.tasks.maintain_referral_click_partitions")
def maintain_referral_click_partitions() -> dict[str, list[str]]:
    """Daily, before the purge: the clicks' next months' partitions made ahead of time, and
    expired months no conversion names dropped whole (PostgreSQL)."""
    return referral_click_partitions_maintain()._asdict()
