"""Settlement tasks: computing a draft period from the ledger, off the request. Thin: the
service locks the period's row, so a retried or doubled task waits for the first and computes
the same figures; a worker killed mid-run leaves nothing, its transaction rolled back."""

from celery import shared_task

from federation.settlement.models import SettlementPeriod
from federation.settlement.services import period_compute
from partners.actors import Actor


@shared_task(
    name="federation.tasks.compute_settlement_period",
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    max_retries=5,
)
def compute_settlement_period(period_id: str, run_id: int | None = None) -> int:
    """Compute the draft period ``period_id`` (its progress the run ``run_id``, queued by
    ``period_compute_queue``); returns how many lines it has now."""
    period = SettlementPeriod.objects.get(pk=period_id)
    return period_compute(period, actor=Actor.system(), run_id=run_id).lines.count()
