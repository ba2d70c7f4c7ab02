"""Settlement's services: the one door for its rows."""

from federation.settlement.services.disputes import dispute_raise, dispute_resolve
from federation.settlement.services.lifecycle import (
    payment_record,
    period_compute,
    period_issue,
    period_lock,
    period_rerun,
    period_review_open,
    statement_acknowledge,
)
from federation.settlement.services.periods import (
    period_create,
    period_create_month,
    settlement_line_post,
)
from federation.settlement.services.runs import period_compute_queue
from federation.settlement.services.statements import statement_verify

__all__ = [
    "dispute_raise",
    "dispute_resolve",
    "payment_record",
    "period_compute",
    "period_compute_queue",
    "period_create",
    "period_create_month",
    "period_issue",
    "period_lock",
    "period_rerun",
    "period_review_open",
    "settlement_line_post",
    "statement_acknowledge",
    "statement_verify",
]
