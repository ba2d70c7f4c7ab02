"""The enrollments of a company, a request to enroll one of its members, and one enrollment."""

import django_filters as df
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from consent.errors import ConsentErrorCode
from federation.enrollment.access import (
    access_enrollment_by_id,
    access_target_by_slug,
    enrollments_visible_to,
)
from federation.enrollment.api.outputs import (
    ROLES,
    EnrollmentOutput,
    enrollment_view,
    fields_input,
)
from federation.enrollment.models import Enrollment
from federation.enrollment.services import enrollment_request
from federation.errors import FederationErrorCode
from federation.kernel.api import READ, WRITE, FederationEndpoint
from partners.access import access_member_by_number
from partners.api.base import StrictInputSerializer
from partners.api.filters import list_schema
from partners.api.pagination import CappedCursorPagination
from partners.api.schema import raises
from partners.errors import ErrorCode


class EnrollmentPagination(CappedCursorPagination):
    ordering = "-requested_at"


class EnrollmentListApi(FederationEndpoint):
    required_scopes = {"GET": READ, "POST": WRITE}

    class EnrollmentListFilters(df.FilterSet):
        status = df.ChoiceFilter(
            choices=Enrollment.Status.choices, label="Only enrollments in this status."
        )
        role = df.ChoiceFilter(
            choices=[(role, role) for role in ROLES],
            method="filter_role",
            label="Only those where your company is the `source`, or the `target`.",
        )
        batch = df.UUIDFilter(field_name="batch_id", label="Only those of this campaign.")

        def filter_role(
            self, queryset: QuerySet[Enrollment], name: str, value: str
        ) -> QuerySet[Enrollment]:
            return queryset.filter(**{value: self.request.user.partner})

    class EnrollmentRequestInput(StrictInputSerializer):
        member_number = serializers.CharField(
            max_length=64, help_text="Your member number for the member who joins."
        )
        target = serializers.SlugField(
            max_length=50, help_text="The slug of the company whose program the member joins."
        )
        fields = fields_input(  # type: ignore[assignment]
            help_text="The member fields the target may read, at least one. Absent: every "
            "field the agreement and the notice in force allow.",
        )

    @list_schema(
        EnrollmentListFilters,
        EnrollmentOutput,
        operation_id="enrollments_list",
        summary="List enrollments",
        description="Enrollments your company is the source or the target of, newest first, "
        "each in your own terms: the source sees its member number, the target its "
        "pseudonymous id for the member and, once confirmed, its own number. Never any "
        "personal data.",
    )
    def get(self, request: Request) -> Response:
        return self.filtered_page(
            self.EnrollmentListFilters,
            enrollments_visible_to(self.partner),
            EnrollmentOutput,
            pagination=EnrollmentPagination,
            present=lambda enrollment: enrollment_view(enrollment, self.partner),
        )

    @extend_schema(
        request=EnrollmentRequestInput,
        responses={201: EnrollmentOutput},
        operation_id="enrollments_create",
        summary="Enroll a member in a partner's program",
        examples=[
            OpenApiExample(
                "Name and e-mail for the target",
                value={
                    "member_number": "M-20261201-0042",
                    "target": "sakura-shoji",
                    "fields": ["name", "email"],
                },
                request_only=True,
            )
        ],
        description="Enrolls one of your own members in the target's "
        "program: an active agreement must let your company give the target members for "
        "cross-enrollment (else 403 `no_agreement`, also for a company you have no agreement "
        "with), and the member must have consented to `cross_enrollment` and `profile_sharing` "
        "with the target (else 403 `consent_required`). Fields outside the agreement's flow or "
        "the notice in force are 400 `validation_failed`; a member already enrolled there is "
        "409 `conflict`; a member number not in your base is 404. The target is told by the "
        "`enrollment.requested` webhook, under its own id for the member.",
    )
    @raises(
        FederationErrorCode.NO_AGREEMENT,
        ConsentErrorCode.CONSENT_REQUIRED,
        ErrorCode.PERMISSION_DENIED,
        ErrorCode.CONFLICT,
        ErrorCode.NOT_FOUND,
    )
    def post(self, request: Request) -> Response:
        values = self.validated(self.EnrollmentRequestInput)
        member = access_member_by_number(self.partner, values["member_number"])
        target = access_target_by_slug(self.partner, values["target"])
        enrollment = enrollment_request(
            member=member, target=target, fields=values.get("fields"), actor=self.actor
        )
        created = access_enrollment_by_id(self.partner, str(enrollment.pk))
        return Response(
            EnrollmentOutput(enrollment_view(created, self.partner)).data,
            status=status.HTTP_201_CREATED,
        )


class EnrollmentDetailApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        responses=EnrollmentOutput,
        operation_id="enrollments_retrieve",
        summary="Get an enrollment",
        description="One enrollment your company is the source or the target of, in your own "
        "terms (see the list); any other id is a 404.",
    )
    def get(self, request: Request, enrollment_id: str) -> Response:
        enrollment = access_enrollment_by_id(self.partner, enrollment_id)
        return Response(EnrollmentOutput(enrollment_view(enrollment, self.partner)).data)
