"""Data-subject requests: submitting, listing, reading and exporting them."""

from itertools import combinations
from typing import Any, ClassVar

import django_filters as df
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from consent.access import (
    access_data_request_by_id,
)
from consent.api.fields import (
    READ,
    WRITE,
    ModelOutput,
)
from consent.errors import ConsentErrorCode
from consent.models import (
    DataSubjectRequest,
)
from consent.services import (
    data_request_export,
    data_request_submit,
)
from consent.services.data_requests import IDENTITY_FACTS, MIN_IDENTITY_FACTS
from partners.access import access_member_by_number
from partners.api.base import PartnerEndpoint, StrictInputSerializer
from partners.api.fields import NamedChoiceField
from partners.api.filters import list_schema
from partners.api.pagination import CappedCursorPagination
from partners.api.schema import NON_BLANK, raises
from partners.errors import ErrorCode

# --- Data-subject requests -------------------------------------------------------------------


class DataRequestOutput(ModelOutput):
    member_number = serializers.CharField(source="member.member_number")
    kind = NamedChoiceField(
        schema_name="DataRequestKindEnum", choices=DataSubjectRequest.Kind.choices
    )
    status = NamedChoiceField(
        schema_name="DataRequestStatusEnum",
        choices=DataSubjectRequest.Status.choices,
        help_text="`verified`: identity checked, being answered; `completed`: the export was "
        "delivered, or the erasure done.",
    )
    verified_with = serializers.ListField(
        child=serializers.CharField(), help_text="Which facts matched the member's record."
    )

    class Meta:
        model = DataSubjectRequest
        fields = [
            "id",
            "member_number",
            "kind",
            "status",
            "received_at",
            "due_at",
            "completed_at",
            "verified_with",
        ]


class DataRequestPagination(CappedCursorPagination):
    ordering = "-received_at"


class MemberDataRequestApi(PartnerEndpoint):
    """A data-subject request of one of the caller's own members, passed on by the partner
    that holds their account (its portal, call centre or counter)."""

    required_scopes = {"POST": WRITE}

    class DataRequestInput(StrictInputSerializer):
        class IdentityInput(StrictInputSerializer):
            # At least two of the facts, not blank (consent.data_requests.identity_verify).
            openapi_extra: ClassVar[dict[str, Any]] = {
                "anyOf": [
                    {
                        "required": list(pair),
                        "properties": {name: {"pattern": NON_BLANK} for name in pair},
                    }
                    for pair in combinations(IDENTITY_FACTS, MIN_IDENTITY_FACTS)
                ]
            }

            email = serializers.CharField(max_length=254, required=False, allow_blank=True)
            phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
            birth_date = serializers.CharField(
                max_length=20, required=False, allow_blank=True, help_text="YYYY-MM-DD."
            )

        kind = NamedChoiceField(
            schema_name="DataRequestKindEnum", choices=DataSubjectRequest.Kind.choices
        )
        identity = IdentityInput(
            help_text="What the requester says about themselves: at least two of e-mail, phone "
            "and birth date, each of which must match the member's record."
        )

    @extend_schema(
        request=DataRequestInput,
        responses={201: DataRequestOutput, 200: DataRequestOutput},
        operation_id="member_data_requests_create",
        summary="Submit a data-subject request",
        examples=[
            OpenApiExample(
                "An access request, identity by e-mail and birth date",
                value={
                    "kind": "access",
                    "identity": {"email": "taro.yamada@example.jp", "birth_date": "1988-04-12"},
                },
                request_only=True,
            )
        ],
        description="Verifies the requester's identity against the member's record, then records "
        "the request (201), or returns the open one it repeats (200) — verified just the "
        "same. An erasure runs at once: the member's personal data becomes unreadable, every "
        "consent is withdrawn and every recipient told. Repeating an erasure is harmless. A "
        "mismatch is 403 `identity_not_verified` and records nothing.",
    )
    @raises(ConsentErrorCode.IDENTITY_NOT_VERIFIED, ErrorCode.CONFLICT)
    def post(self, request: Request, member_number: str) -> Response:
        member = access_member_by_number(self.partner, member_number)
        values = self.validated(self.DataRequestInput)
        found, created = data_request_submit(
            member=member,
            kind=values["kind"],
            identity=values["identity"],
            received_via=self.partner,
            actor=self.actor,
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(DataRequestOutput(found).data, status=code)


class DataRequestListApi(PartnerEndpoint):
    """Data-subject requests of the caller's own members, newest first."""

    required_scopes = {"GET": READ}

    class DataRequestFilters(df.FilterSet):
        status = df.ChoiceFilter(
            choices=DataSubjectRequest.Status.choices, label="Only requests in this status."
        )

        class Meta:
            model = DataSubjectRequest
            fields: list[str] = []

    @list_schema(
        DataRequestFilters,
        DataRequestOutput,
        summary="List data-subject requests",
        description="Data-subject requests of your own members, newest first, with their "
        "deadlines.",
    )
    def get(self, request: Request) -> Response:
        found = DataSubjectRequest.objects.filter(member__partner=self.partner).select_related(
            "member"
        )
        return self.filtered_page(
            self.DataRequestFilters, found, DataRequestOutput, pagination=DataRequestPagination
        )


class DataRequestDetailApi(PartnerEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        responses=DataRequestOutput,
        summary="Get a data-subject request",
        description="One request of one of your members.",
    )
    def get(self, request: Request, request_id: str) -> Response:
        found = access_data_request_by_id(self.partner, request_id)
        return Response(DataRequestOutput(found).data)


class DataRequestExportApi(PartnerEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="Export an access request",
        description="Everything the federation holds about the member of an access request, "
        "for you to hand to the member: a JSON document (`format`: "
        "`sanpo-data-subject-export/1`) with the account and its personal data, the consent "
        "history and current consents with every recipient, the ids recipients know the "
        "member by, provision records, withdrawals sent and the member's requests. Opening the "
        "personal data is logged, and the first export completes the request; the answer is "
        "`no-store`. 409 for an erasure request or an account erased since.",
    )
    @raises(ErrorCode.CONFLICT)
    def get(self, request: Request, request_id: str) -> Response:
        found = access_data_request_by_id(self.partner, request_id)
        document = data_request_export(request=found, actor=self.actor)
        response = Response(document)
        response["Cache-Control"] = "no-store"
        return response
