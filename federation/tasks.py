"""Every federation task, one module per domain; Celery's autodiscovery reads this module."""

from federation.agreements.tasks import expire_agreements
from federation.campaigns.tasks import close_ended_campaigns
from federation.coins.tasks import (
    expire_coin_holds,
    expire_coins,
    maintain_coin_entry_partitions,
    release_pending_coins,
)
from federation.enrollment.tasks import run_enrollment_batch
from federation.metrics.tasks import refresh_metrics_rollups
from federation.referrals.tasks import (
    lock_referral_fees,
    maintain_referral_click_partitions,
    purge_referral_clicks,
)
from federation.settlement.tasks import compute_settlement_period

__all__ = [
    "close_ended_campaigns",
    "compute_settlement_period",
    "expire_agreements",
    "expire_coin_holds",
    "expire_coins",
    "lock_referral_fees",
    "maintain_coin_entry_partitions",
    "maintain_referral_click_partitions",
    "purge_referral_clicks",
    "refresh_metrics_rollups",
    "release_pending_coins",
    "run_enrollment_batch",
]
