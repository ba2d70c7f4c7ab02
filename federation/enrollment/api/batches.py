"""A campaign: many of a company's members invited into a partner's program at once, and its
progress, which both companies may follow."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from federation.enrollment.access import access_enrollment_batch_by_id, access_target_by_slug
from federation.enrollment.api.outputs import (
    EnrollmentBatchDetailOutput,
    EnrollmentBatchOutput,
    batch_view,
    fields_input,
)
from federation.enrollment.services import MAX_BATCH_MEMBERS, enrollment_batch_start
from federation.errors import FederationErrorCode
from federation.kernel.api import READ, WRITE, FederationEndpoint
from partners.api.base import StrictInputSerializer
from partners.api.schema import raises
from partners.errors import ErrorCode


class EnrollmentBulkApi(FederationEndpoint):
    """A campaign: many of your members invited into a partner's program at once."""

    required_scopes = {"POST": WRITE}

    class EnrollmentBulkInput(StrictInputSerializer):
        target = serializers.SlugField(max_length=50)
        member_numbers = serializers.ListField(
            child=serializers.CharField(max_length=64),
            min_length=1,
            max_length=MAX_BATCH_MEMBERS,
            help_text=f"Your member numbers, 1 to {MAX_BATCH_MEMBERS:,}.",
        )
        fields = fields_input(  # type: ignore[assignment]
            help_text="As for one enrollment: at least one; absent means every allowed field.",
        )

    @extend_schema(
        request=EnrollmentBulkInput,
        responses={202: EnrollmentBatchOutput},
        operation_id="enrollments_bulk",
        summary="Enroll many members at once",
        examples=[
            OpenApiExample(
                "A campaign of three members",
                value={
                    "target": "sakura-shoji",
                    "member_numbers": ["M-20261201-0042", "M-20261201-0043", "M-20261201-0044"],
                    "fields": ["name", "email"],
                },
                request_only=True,
            )
        ],
        description="Checks the agreement and the fields now (403 `no_agreement`, 400 "
        "`validation_failed`) and queues the batch (202); follow it at "
        "`GET /enrollment-batches/{id}`. When it runs, each of your members is enrolled if "
        "theirs is an active account with both consents in force and not enrolled there "
        "already; other numbers are skipped, unnamed. The target is told by the "
        "`enrollment.batch_completed` webhook. The response leaves out the numbers you sent.",
    )
    @raises(FederationErrorCode.NO_AGREEMENT, ErrorCode.CONFLICT)
    def post(self, request: Request) -> Response:
        values = self.validated(self.EnrollmentBulkInput)
        batch = enrollment_batch_start(
            source=self.partner,
            target=access_target_by_slug(self.partner, values["target"]),
            member_numbers=values["member_numbers"],
            fields=values.get("fields"),
            actor=self.actor,
        )
        started = access_enrollment_batch_by_id(self.partner, str(batch.pk))
        return Response(
            EnrollmentBatchOutput(batch_view(started, self.partner, numbers=False)).data,
            status=status.HTTP_202_ACCEPTED,
        )


class EnrollmentBatchDetailApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        responses=EnrollmentBatchDetailOutput,
        operation_id="enrollment_batches_retrieve",
        summary="Follow a bulk enrollment",
        description="A campaign's progress, for its source and its target; the member numbers "
        "it was sent, for the source alone.",
    )
    def get(self, request: Request, batch_id: str) -> Response:
        batch = access_enrollment_batch_by_id(self.partner, batch_id)
        view = batch_view(batch, self.partner, numbers=True)
        return Response(EnrollmentBatchDetailOutput(view).data)
