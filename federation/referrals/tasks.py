"""Referral tasks, scheduled by beat: fees whose review period is over are locked for
settlement. Set-based and idempotent: a second run, or two workers at once, locks nothing
twice (the rows each takes are locked, the others skipped)."""

from celery import shared_task

from federation.referrals.services import referral_fees_lock_due


@shared_task(name="federation.tasks.lock_referral_fees")
def lock_referral_fees() -> int:
    """Lock the pending referral fees whose review period is over; returns how many."""
    return referral_fees_lock_due()
