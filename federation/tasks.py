"""Every federation task, one module per domain; Celery's autodiscovery reads this module."""

from federation.agreements.tasks import expire_agreements
from federation.enrollment.tasks import run_enrollment_batch

__all__ = ["expire_agreements", "run_enrollment_batch"]
