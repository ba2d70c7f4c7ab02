"""The metrics domain's writes: its own rollups and cached results, nothing else."""

from federation.metrics.services.lift import (
    metrics_action_lift,
    metrics_campaign_lift,
    metrics_reactivation_lift,
)
from federation.metrics.services.rollups import metrics_refresh_days, metrics_refresh_recent

__all__ = [
    "metrics_action_lift",
    "metrics_campaign_lift",
    "metrics_reactivation_lift",
    "metrics_refresh_days",
    "metrics_refresh_recent",
]
