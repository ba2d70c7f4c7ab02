"""Enrollment endpoints: a company enrolls its own members in a partner's program (one at a time
or as a campaign), the target reads the member's allowed fields and confirms with its own
member number, and either side ends it.

An enrollment is seen by its two companies alone (``federation.access``), each in its own
terms: the source by its member number, the target by its pseudonymous id for the member and
its own number. Personal data leaves Sanpo only through ``GET …/member``, which the services
check against the agreement and the consents at that moment and record as a provision; it is
never cached and never stored for an Idempotency-Key replay (no POST here returns any).
"""

from typing import Any

import django_filters as df
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from consent.errors import ConsentErrorCode
from federation.agreements.access import access_counterparty_by_slug
from federation.enrollment.access import (
    access_enrollment_batch_by_id,
    access_enrollment_by_id,
    enrollments_visible_to,
)
from federation.enrollment.models import Enrollment, EnrollmentBatch
from federation.enrollment.services import (
    MAX_BATCH_MEMBERS,
    enrollment_batch_start,
    enrollment_confirm,
    enrollment_end,
    enrollment_member_data,
    enrollment_request,
    no_agreement_to_enroll,
)
from federation.errors import FederationErrorCode
from partners.access import access_member_by_number
from partners.api.base import PartnerEndpoint, StrictInputSerializer
from partners.api.fields import NamedChoiceField
from partners.api.filters import apply_filters, filter_parameters
from partners.api.pagination import CappedCursorPagination, page_of
from partners.api.schema import raises
from partners.errors import ErrorCode
from partners.models import ApiScope, Partner
from partners.pii import pseudonym_for

READ = ApiScope.READ.value
WRITE = ApiScope.WRITE.value
ROLES = ["source", "target"]


def _target(caller: Partner, slug: str) -> Partner:
    """The program to join. A company the caller has no agreement with, and a slug nobody has,
    answer as the service answers a company whose agreement is not in force: no_agreement,
    so the answer never tells whether a company is in the alliance."""
    return access_counterparty_by_slug(caller, slug, missing=no_agreement_to_enroll(caller, slug))


def _role_of(caller: Partner, source_id: Any) -> str:
    return "source" if source_id == caller.pk else "target"


def _enrollment_view(enrollment: Enrollment, caller: Partner) -> dict[str, Any]:
    """The enrollment as ``caller`` may see it: the source its own member number, the target
    its pseudonymous id for the member and its own number. Never any personal data."""
    role = _role_of(caller, enrollment.source_id)
    return {
        "id": enrollment.pk,
        "role": role,
        "status": enrollment.status,
        "source": enrollment.source.slug,
        "target": enrollment.target.slug,
        # Annotated by ``enrollments_visible_to``: the source's number, for the source alone.
        "member_number": enrollment.__dict__["member_number"] if role == "source" else None,
        "member": pseudonym_for(enrollment.member_id, enrollment.target_id)
        if role == "target"
        else None,
        "target_member_number": (enrollment.target_member_number or None)
        if role == "target"
        else None,
        "fields": enrollment.fields,
        "requested_at": enrollment.requested_at,
        "confirmed_at": enrollment.confirmed_at,
        "ended_at": enrollment.ended_at,
        "agreement_id": enrollment.agreement_id,
        "batch_id": enrollment.batch_id,
    }


def _batch_view(batch: EnrollmentBatch, caller: Partner, *, numbers: bool) -> dict[str, Any]:
    role = _role_of(caller, batch.source_id)
    view: dict[str, Any] = {
        "id": batch.pk,
        "role": role,
        "status": batch.status,
        "source": batch.source.slug,
        "target": batch.target.slug,
        "fields": batch.fields,
        "total": batch.total,
        "processed": batch.processed,
        "enrolled": batch.enrolled,
        "error": batch.error,
        "created_at": batch.created_at,
        "finished_at": batch.finished_at,
    }
    if numbers:
        view["member_numbers"] = batch.member_numbers if role == "source" else None
    return view


# --- Output ----------------------------------------------------------------------------------
#
# ``source`` and ``fields`` are the API's names (as in the model and the webhooks). DRF's
# metaclass takes declared fields off the class, so they do not shadow ``Field.source`` or
# ``Serializer.fields`` at run time; only the stubs see a clash, hence the ignores.


def _role_field() -> NamedChoiceField:
    return NamedChoiceField(
        schema_name="EnrollmentRoleEnum",
        choices=ROLES,
        help_text="Your company's side: `source` (its member joins) or `target` (its program).",
    )


class EnrollmentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    role = _role_field()
    status = NamedChoiceField(
        schema_name="EnrollmentStatusEnum",
        choices=Enrollment.Status.choices,
        help_text="`active`: shared, awaiting the target's confirmation; `confirmed`: the target "
        "linked its own member number; `ended`: nothing more is shared.",
    )
    source = serializers.CharField(  # type: ignore[assignment]
        help_text="The slug of the company whose member joins."
    )
    target = serializers.CharField(help_text="The slug of the company whose program it is.")
    member_number = serializers.CharField(
        allow_null=True,
        help_text="Your member number for the member, if you are the source; null for the target, "
        "which never learns it.",
    )
    member = serializers.CharField(
        allow_null=True,
        help_text="If you are the target: your pseudonymous id for the member (`mp_…`), the same "
        "in webhooks and in `…/member`. Null for the source.",
    )
    target_member_number = serializers.CharField(
        allow_null=True,
        help_text="If you are the target: the member number you confirmed with; null until then, "
        "and always null for the source.",
    )
    fields = serializers.ListField(  # type: ignore[assignment]
        child=serializers.CharField(), help_text="The member fields the target may read."
    )
    requested_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    agreement_id = serializers.UUIDField(help_text="The agreement it was made under.")
    batch_id = serializers.UUIDField(
        allow_null=True, help_text="The campaign that enrolled the member, if any."
    )


EnrollmentPageOutput = page_of(EnrollmentOutput)


class EnrollmentMemberOutput(serializers.Serializer):
    member = serializers.CharField(help_text="Your pseudonymous id for the member.")
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.CharField(allow_null=True),
        help_text="The member's allowed fields now: those of the enrollment that the agreement "
        "in force still allows. Segments (`age_band`, `prefecture`, `kind`) may be null.",
    )


class EnrollmentBatchOutput(serializers.Serializer):
    id = serializers.UUIDField()
    role = _role_field()
    status = NamedChoiceField(
        schema_name="EnrollmentBatchStatusEnum",
        choices=EnrollmentBatch.Status.choices,
        help_text="`queued`, `running`, then `done`, or `failed` (see `error`).",
    )
    source = serializers.CharField()  # type: ignore[assignment]
    target = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]
    total = serializers.IntegerField(help_text="Distinct member numbers sent.")
    processed = serializers.IntegerField(help_text="Member numbers looked at so far.")
    enrolled = serializers.IntegerField(
        help_text="Members enrolled: active accounts of the source with both consents in force "
        "that were not enrolled with the target already. Numbers that are not the source's "
        "accounts are processed and skipped."
    )
    error = serializers.CharField(help_text="Why the batch failed; empty otherwise.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class EnrollmentBatchDetailOutput(EnrollmentBatchOutput):
    member_numbers = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="The source's member numbers, as sent (deduplicated, sorted). Null for the "
        "target, which never learns them.",
    )


# --- Endpoints -------------------------------------------------------------------------------


class EnrollmentPagination(CappedCursorPagination):
    ordering = "-requested_at"


class EnrollmentListApi(PartnerEndpoint):
    """Enrollments your company is the source or the target of, newest first; and enrolling one
    of your own members in a partner's program."""

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

        class Meta:
            model = Enrollment
            fields: list[str] = []

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
        fields = serializers.ListField(  # type: ignore[assignment]
            child=serializers.CharField(max_length=40),
            required=False,
            allow_empty=False,
            max_length=20,
            help_text="The member fields the target may read, at least one. Absent: every "
            "field the agreement and the notice in force allow.",
        )

    @extend_schema(
        parameters=[
            *filter_parameters(EnrollmentListFilters),
        ],
        responses=EnrollmentPageOutput,
        operation_id="enrollments_list",
    )
    def get(self, request: Request) -> Response:
        enrollments = apply_filters(
            self.EnrollmentListFilters,
            request.query_params,
            enrollments_visible_to(self.partner),
            request=request,
        )
        return self.paginated(
            enrollments,
            EnrollmentOutput,
            pagination=EnrollmentPagination,
            present=lambda enrollment: _enrollment_view(enrollment, self.partner),
        )

    @extend_schema(
        request=EnrollmentRequestInput,
        responses={201: EnrollmentOutput},
        operation_id="enrollments_create",
        description="Needs the write scope. Enrolls one of your own members in the target's "
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
        data = self.EnrollmentRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        member = access_member_by_number(self.partner, values["member_number"])
        target = _target(self.partner, values["target"])
        enrollment = enrollment_request(
            member=member, target=target, fields=values.get("fields"), actor=self.actor
        )
        created = access_enrollment_by_id(self.partner, str(enrollment.pk))
        return Response(
            EnrollmentOutput(_enrollment_view(created, self.partner)).data,
            status=status.HTTP_201_CREATED,
        )


class EnrollmentDetailApi(PartnerEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(responses=EnrollmentOutput, operation_id="enrollments_retrieve")
    def get(self, request: Request, enrollment_id: str) -> Response:
        enrollment = access_enrollment_by_id(self.partner, enrollment_id)
        return Response(EnrollmentOutput(_enrollment_view(enrollment, self.partner)).data)


class EnrollmentMemberApi(PartnerEndpoint):
    """The member's data, for the target alone. Each read is checked and recorded."""

    required_scopes = {"GET": READ}

    @extend_schema(
        responses=EnrollmentMemberOutput,
        operation_id="enrollments_member",
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


class EnrollmentConfirmApi(PartnerEndpoint):
    required_scopes = {"POST": WRITE}

    class EnrollmentConfirmInput(StrictInputSerializer):
        member_number = serializers.CharField(
            max_length=64, help_text="The member number your company gave the member."
        )

    @extend_schema(
        request=EnrollmentConfirmInput,
        responses=EnrollmentOutput,
        operation_id="enrollments_confirm",
        description="The target confirms with its own member number, linking the accounts; the "
        "source is told by the `enrollment.confirmed` webhook. Confirming again with the same "
        "number changes nothing; another number, a number already linked to another live "
        "enrollment, or an ended enrollment is 409 `conflict`. Only the target may confirm: to "
        "the source this is 404.",
    )
    @raises(ErrorCode.CONFLICT)
    def post(self, request: Request, enrollment_id: str) -> Response:
        enrollment = access_enrollment_by_id(self.partner, enrollment_id, role="target")
        data = self.EnrollmentConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        enrollment_confirm(
            enrollment=enrollment,
            target_member_number=data.validated_data["member_number"],
            actor=self.actor,
        )
        confirmed = access_enrollment_by_id(self.partner, enrollment_id, role="target")
        return Response(EnrollmentOutput(_enrollment_view(confirmed, self.partner)).data)


class EnrollmentEndApi(PartnerEndpoint):
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
        description="Either company ends the enrollment: from now on the target reads nothing "
        "(a read in flight finishes first). Both are told by the `enrollment.ended` webhook. "
        "Ending an ended enrollment changes nothing.",
    )
    @raises(ErrorCode.CONFLICT)
    def post(self, request: Request, enrollment_id: str) -> Response:
        enrollment = access_enrollment_by_id(self.partner, enrollment_id)
        data = self.EnrollmentEndInput(data=request.data)
        data.is_valid(raise_exception=True)
        enrollment_end(
            enrollment=enrollment, reason=data.validated_data.get("reason", ""), actor=self.actor
        )
        ended = access_enrollment_by_id(self.partner, enrollment_id)
        return Response(EnrollmentOutput(_enrollment_view(ended, self.partner)).data)


class EnrollmentBulkApi(PartnerEndpoint):
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
        fields = serializers.ListField(  # type: ignore[assignment]
            child=serializers.CharField(max_length=40),
            required=False,
            allow_empty=False,
            max_length=20,
            help_text="As for one enrollment: at least one; absent means every allowed field.",
        )

    @extend_schema(
        request=EnrollmentBulkInput,
        responses={202: EnrollmentBatchOutput},
        operation_id="enrollments_bulk",
        description="Checks the agreement and the fields now (403 `no_agreement`, 400 "
        "`validation_failed`) and queues the batch (202); follow it at "
        "`GET /enrollment-batches/{id}`. When it runs, each of your members is enrolled if "
        "theirs is an active account with both consents in force and not enrolled there "
        "already; other numbers are skipped, unnamed. The target is told by the "
        "`enrollment.batch_completed` webhook. The response leaves out the numbers you sent.",
    )
    @raises(FederationErrorCode.NO_AGREEMENT, ErrorCode.CONFLICT)
    def post(self, request: Request) -> Response:
        data = self.EnrollmentBulkInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        target = _target(self.partner, values["target"])
        batch = enrollment_batch_start(
            source=self.partner,
            target=target,
            member_numbers=values["member_numbers"],
            fields=values.get("fields"),
            actor=self.actor,
        )
        started = access_enrollment_batch_by_id(self.partner, str(batch.pk))
        return Response(
            EnrollmentBatchOutput(_batch_view(started, self.partner, numbers=False)).data,
            status=status.HTTP_202_ACCEPTED,
        )


class EnrollmentBatchDetailApi(PartnerEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        responses=EnrollmentBatchDetailOutput,
        operation_id="enrollment_batches_retrieve",
        description="A campaign's progress, for its source and its target.",
    )
    def get(self, request: Request, batch_id: str) -> Response:
        batch = access_enrollment_batch_by_id(self.partner, batch_id)
        view = _batch_view(batch, self.partner, numbers=True)
        return Response(EnrollmentBatchDetailOutput(view).data)
