"""The metrics domain's beat task: the activity rollup of yesterday and today."""

from __future__ import annotations

from celery import shared_task

from federation.metrics.services import metrics_refresh_recent


@shared_task(name="federation.tasks.refresh_metrics_rollups", acks_late=True)
def refresh_metrics_rollups() -> int:
    """Idempotent: a redelivered run rebuilds the same days."""
    return metrics_refresh_recent()
