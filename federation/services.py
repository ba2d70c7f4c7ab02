"""The index of the federation's writes, for callers outside the app (commands, tests): each
lives in its domain (``federation.<domain>.services``), and domains call each other's there."""

from federation.agreements.services import (
    PartyInput,
    agreement_create,
    agreement_resume,
    agreement_suspend,
    agreement_terminate,
    agreements_expire,
    version_draft,
    version_propose,
    version_sign,
    version_update,
    version_withdraw,
)
from federation.enrollment.services import (
    enrollment_batch_abandon,
    enrollment_batch_run,
    enrollment_batch_start,
    enrollment_confirm,
    enrollment_end,
    enrollment_fields,
    enrollment_member_data,
    enrollment_request,
)
from federation.overlap.services import (
    OverlapResult,
    overlap_counts,
    overlap_visibility_set,
)

__all__ = [
    "OverlapResult",
    "PartyInput",
    "agreement_create",
    "agreement_resume",
    "agreement_suspend",
    "agreement_terminate",
    "agreements_expire",
    "enrollment_batch_abandon",
    "enrollment_batch_run",
    "enrollment_batch_start",
    "enrollment_confirm",
    "enrollment_end",
    "enrollment_fields",
    "enrollment_member_data",
    "enrollment_request",
    "overlap_counts",
    "overlap_visibility_set",
    "version_draft",
    "version_propose",
    "version_sign",
    "version_update",
    "version_withdraw",
]
