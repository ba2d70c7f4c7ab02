"""The target's door to the member's data: checked and recorded at every read."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from consent.errors import ConsentErrorCode
from federation.enrollment.access import access_enrollment_by_id
from federation.enrollment.api.outputs import EnrollmentMemberOutput
from federation.enrollment.services import enrollment_member_data
from federation.errors import FederationErrorCode
from federation.kernel.api import READ, FederationEndpoint
from partners.api.schema import raises
from partners.errors import ErrorCode


class EnrollmentMemberApi(FederationEndpoint):
    """The member's data, for the target alone. Each read is checked and recorded."""

    required_scopes = {"GET": READ}

    @extend_schema(
        responses=EnrollmentMemberOutput,
        operation_id="enrollments_member",
        summary="Read an enrolled member's data",
        description="The target's door to the member's allowed fields; to the source it does not "
        "exist (404). Each read passes the agreement and both consents again at that moment and "
        "writes a provision record, so read when you need the data rather than keeping a copy. "
        "403 `no_agreement` while the agreement is not in force, 403 `consent_required` after "
        "the member withdrew, 409 `conflict` once the enrollment ended. Never cached "
        "(`Cache-Control: no-store`).",
    )
    @raises(
        FederationErrorCode.NO_AGREEMENT,
        ConsentErrorCode.CONSENT_REQUIRED,
        ErrorCode.PERMISSION_DENIED,
        ErrorCode.CONFLICT,
    )
    def get(self, request: Request, enrollment_id: str) -> Response:
        enrollment = access_enrollment_by_id(self.partner, enrollment_id, role="target")
        data = enrollment_member_data(enrollment=enrollment, actor=self.actor)
        response = Response(EnrollmentMemberOutput(data).data)
        response["Cache-Control"] = "no-store"
        return response
