"""Mutual member enrollment: a member of one company joins a partner's program.

Three gates, every time (``gates``): an active agreement whose terms in force let the source
give the target this member for cross-enrollment (``terms_in_force``), the member's consent to
cross-enrollment *and* to profile sharing with the target (``consent_check``), and fields
within both the agreement's flow and the notice the member consented under. Sanpo keeps no copy
for the target: the target reads the member's allowed fields through the API, each read passes
the gates again at that moment and is recorded as a provision (``enrollments``). So ending the
enrollment, withdrawing consent or suspending the agreement stops the sharing at once. A
campaign enrolls many members at once, in set-based steps (``batches``).
"""

from federation.enrollment.services.batches import (
    MAX_BATCH_MEMBERS,
    enrollment_batch_abandon,
    enrollment_batch_run,
    enrollment_batch_start,
)
from federation.enrollment.services.enrollments import (
    enrollment_confirm,
    enrollment_end,
    enrollment_member_data,
    enrollment_request,
)
from federation.enrollment.services.gates import (
    LIVE,
    enrollment_fields,
    no_agreement_to_enroll,
)

__all__ = [
    "LIVE",
    "MAX_BATCH_MEMBERS",
    "enrollment_batch_abandon",
    "enrollment_batch_run",
    "enrollment_batch_start",
    "enrollment_confirm",
    "enrollment_end",
    "enrollment_fields",
    "enrollment_member_data",
    "enrollment_request",
    "no_agreement_to_enroll",
]
