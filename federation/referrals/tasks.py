"""Referral tasks, scheduled by beat: fees whose review period is over are locked and posted
into settlement. Set-based and idempotent: a second run, or two workers at once, locks nothing
twice (the rows each takes are locked, the others skipped)."""

from celery import shared_task

from federation.referrals.services import referral_fees_lock_due, referral_fees_post_due


@shared_task(name="federation.tasks.lock_referral_fees")
def lock_referral_fees() -> int:
    """Lock the pending referral fees whose review period is over, then post every locked fee
    into settlement (the period its lock falls in, or the next open one); returns how many
    were locked."""
    locked = referral_fees_lock_due()
    referral_fees_post_due()
    return locked
