"""Enrollment endpoints: a company enrolls its own members in a partner's program (one at a time
or as a campaign), the target reads the member's allowed fields and confirms with its own
member number, and either side ends it. One module per operation: ``enrollments`` (the list,
a request, one enrollment), ``member`` (the target's read of the member's data), ``lifecycle``
(confirm, end) and ``batches`` (a campaign and its progress); ``outputs`` shows each side
what it may see.

An enrollment is seen by its two companies alone (``federation.enrollment.access``), each in
its own terms: the source by its member number, the target by its pseudonymous id for the
member and its own number. Personal data leaves Sanpo only through ``GET …/member``, which the
services check against the agreement and the consents at that moment and record as a
provision; it is never cached and never stored for an Idempotency-Key replay (no POST here
returns any).
"""

from federation.enrollment.api.batches import EnrollmentBatchDetailApi, EnrollmentBulkApi
from federation.enrollment.api.enrollments import EnrollmentDetailApi, EnrollmentListApi
from federation.enrollment.api.lifecycle import EnrollmentConfirmApi, EnrollmentEndApi
from federation.enrollment.api.member import EnrollmentMemberApi

__all__ = [
    "EnrollmentBatchDetailApi",
    "EnrollmentBulkApi",
    "EnrollmentConfirmApi",
    "EnrollmentDetailApi",
    "EnrollmentEndApi",
    "EnrollmentListApi",
    "EnrollmentMemberApi",
]
