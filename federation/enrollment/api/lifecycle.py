"""The target's confirmation of an enrollment, and its end by either side."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from federation.enrollment.access import access_enrollment_by_id
from federation.enrollment.api.outputs import EnrollmentOutput, enrollment_view
from federation.enrollment.services import enrollment_confirm, enrollment_end
from federation.kernel.api import WRITE, FederationEndpoint
from partners.api.base import StrictInputSerializer
from partners.api.schema import raises
from partners.errors import ErrorCode


class EnrollmentConfirmApi(FederationEndpoint):
    required_scopes = {"POST": WRITE}

    class EnrollmentConfirmInput(StrictInputSerializer):
        member_number = serializers.CharField(
            max_length=64, help_text="The member number your company gave the member."
        )

    @extend_schema(
        request=EnrollmentConfirmInput,
        responses=EnrollmentOutput,
        operation_id="enrollments_confirm",
        summary="Confirm an enrollment",
        examples=[
            OpenApiExample(
                "Your own member number",
                value={"member_number": "MF-884213"},
                request_only=True,
            )
        ],
        description="The target confirms with its own member number, linking the accounts; the "
        "source is told by the `enrollment.confirmed` webhook. Confirming again with the same "
        "number changes nothing; another number, a number already linked to another live "
        "enrollment, or an ended enrollment is 409 `conflict`. Only the target may confirm: to "
        "the source this is 404.",
    )
    @raises(ErrorCode.CONFLICT)
    def post(self, request: Request, enrollment_id: str) -> Response:
        enrollment = access_enrollment_by_id(self.partner, enrollment_id, role="target")
        values = self.validated(self.EnrollmentConfirmInput)
        enrollment_confirm(
            enrollment=enrollment,
            target_member_number=values["member_number"],
            actor=self.actor,
        )
        confirmed = access_enrollment_by_id(self.partner, enrollment_id, role="target")
        return Response(EnrollmentOutput(enrollment_view(confirmed, self.partner)).data)


class EnrollmentEndApi(FederationEndpoint):
    required_scopes = {"POST": WRITE}

    class EnrollmentEndInput(StrictInputSerializer):
        reason = serializers.CharField(
            max_length=300,
            required=False,
            allow_blank=True,
            help_text="Why, for the other company (sent in the `enrollment.ended` webhook). No "
            "personal data, please.",
        )

    @extend_schema(
        request=EnrollmentEndInput,
        responses=EnrollmentOutput,
        operation_id="enrollments_end",
        summary="End an enrollment",
        examples=[
            OpenApiExample(
                "The member left the program",
                value={"reason": "Membership cancelled at the member's request."},
                request_only=True,
            ),
            OpenApiExample("Without a reason", value={}, request_only=True),
        ],
        description="Either company ends the enrollment: from now on the target reads nothing "
        "(a read in flight finishes first). Both are told by the `enrollment.ended` webhook. "
        "Ending an ended enrollment changes nothing.",
    )
    @raises(ErrorCode.CONFLICT)
    def post(self, request: Request, enrollment_id: str) -> Response:
        enrollment = access_enrollment_by_id(self.partner, enrollment_id)
        values = self.validated(self.EnrollmentEndInput)
        enrollment_end(enrollment=enrollment, reason=values.get("reason", ""), actor=self.actor)
        ended = access_enrollment_by_id(self.partner, enrollment_id)
        return Response(EnrollmentOutput(enrollment_view(ended, self.partner)).data)
