"""Every federation task, one module per domain; Celery's autodiscovery reads this module."""

from federation.agreements.tasks import expire_agreements
from federation.campaigns.tasks import close_ended_campaigns
from federation.coins.tasks import expire_coin_holds, expire_coins, release_pending_coins
from federation.enrollment.tasks import run_enrollment_batch

__all__ = [
    "close_ended_campaigns",
    "expire_agreements",
    "expire_coin_holds",
    "expire_coins",
    "release_pending_coins",
    "run_enrollment_batch",
]
