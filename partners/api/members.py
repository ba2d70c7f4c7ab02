"""Member-account endpoints: a partner's own member base, one account or a thousand at a time.

Lists carry only the coarse segment attributes kept in clear; personal data is decrypted one
account at a time, in the detail. The person an account is linked to is never shown: that link
is how the alliance matches members across bases, and showing it (or anything derived from it)
would tell a partner who is a member elsewhere.
"""

from collections.abc import Mapping
from typing import Any

import django_filters as df
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from partners import pii, selectors, services
from partners.access import access_member_by_number
from partners.api.base import PartnerEndpoint, StrictInputSerializer
from partners.api.fields import NamedChoiceField
from partners.api.filters import UtcDateTimeFilter, filter_parameters
from partners.api.pagination import CappedCursorPagination, page_of
from partners.api.schema import raises
from partners.errors import ErrorCode
from partners.models import ApiScope, MemberAccount
from partners.normalize import age_band
from partners.services.member_records import open_member
from partners.services.members import MAX_BULK_MEMBERS

READ = ApiScope.READ.value
WRITE = ApiScope.WRITE.value

_SETTABLE_STATUSES = [
    (MemberAccount.Status.ACTIVE.value, MemberAccount.Status.ACTIVE.label),
    (MemberAccount.Status.INACTIVE.value, MemberAccount.Status.INACTIVE.label),
]


def _kind_field(**kwargs: Any) -> NamedChoiceField:
    return NamedChoiceField(
        schema_name="MemberKindEnum", choices=MemberAccount.Kind.choices, **kwargs
    )


def _status_field(**kwargs: Any) -> NamedChoiceField:
    return NamedChoiceField(
        schema_name="MemberStatusEnum", choices=MemberAccount.Status.choices, **kwargs
    )


# --- Output ----------------------------------------------------------------------------------


class MemberOutput(serializers.ModelSerializer):
    kind = _kind_field()
    status = _status_field()
    age_band = serializers.SerializerMethodField(
        help_text="Ten-year band of the age today (`30-39`, `under-20`, `80+`), from the year "
        "of birth; null when unknown or erased."
    )

    class Meta:
        model = MemberAccount
        fields = [
            "member_number",
            "kind",
            "status",
            "age_band",
            "prefecture",
            "joined_on",
            "last_active_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_age_band(self, member: MemberAccount) -> str | None:
        return age_band(member.birth_year, today=timezone.localdate())


class MemberPersonalOutput(serializers.Serializer):
    name = serializers.CharField(allow_null=True)
    name_kana = serializers.CharField(allow_null=True)
    email = serializers.CharField(allow_null=True)
    phone = serializers.CharField(allow_null=True)
    postal_code = serializers.CharField(allow_null=True)
    address = serializers.CharField(allow_null=True)
    birth_date = serializers.DateField(allow_null=True)


class MemberDetailOutput(MemberOutput):
    personal = MemberPersonalOutput(
        required=False,
        help_text="The personal data, normalised; all null once the account is erased. Absent "
        "from a response replayed for an Idempotency-Key: personal data is never stored outside "
        "its encrypted columns.",
    )

    class Meta(MemberOutput.Meta):
        fields = [*MemberOutput.Meta.fields, "personal"]


def _detail(member: MemberAccount) -> dict[str, Any]:
    if member.status == MemberAccount.Status.ERASED:
        # The data key is destroyed: nothing to decrypt, and that is the expected answer. For
        # any other account an UndecryptableError (a missing master key, a tampered row) is a
        # fault to surface, not an empty record to show: the endpoint base answers it with 409
        # and records it.
        personal: dict[str, str | None] = dict.fromkeys(pii.PERSONAL_FIELDS)
    else:
        personal = open_member(member)
    return {**MemberOutput(member).data, "personal": MemberPersonalOutput(personal).data}


# --- Input -----------------------------------------------------------------------------------


def _optional(help_text: str) -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text=help_text
    )


@extend_schema_serializer(
    description="One member record, in the columns of the member import file. Values are "
    "normalised as a Japanese member base holds them (full-width letters and digits, `+81` "
    "numbers, `2026/11/01` dates); empty or null optional fields are stored as absent."
)
class MemberRecordInput(StrictInputSerializer):
    member_number = serializers.CharField(
        help_text="Your own number for the member: at most 64 characters, no spaces. It never "
        "changes."
    )
    kind = _kind_field()
    name = serializers.CharField()
    name_kana = _optional("The name in katakana.")
    email = _optional("An e-mail address; stored lower-case ASCII.")
    phone = _optional("A Japanese phone number; stored as domestic digits.")
    postal_code = _optional("A 7-digit postal code; stored as `123-4567`.")
    address = _optional("The postal address.")
    birth_date = _optional("`YYYY-MM-DD` or `YYYY/MM/DD`.")
    prefecture = _optional(
        "A JIS X 0401 code (`13`) or name (`東京都`); taken from the address when absent."
    )
    joined_on = _optional("The date the member joined, not in the future.")
    last_active_on = _optional("The date of the member's last activity, not in the future.")
    status = NamedChoiceField(
        schema_name="MemberSettableStatusEnum",
        choices=_SETTABLE_STATUSES,
        required=False,
        help_text="A new account is active unless told otherwise.",
    )


# --- Examples for the docs (a fictional member) -------------------------------------------

_RECORD = {
    "member_number": "M-20261201-0042",
    "kind": "household",
    "name": "山田 太郎",
    "name_kana": "ヤマダ タロウ",
    "email": "taro.yamada@example.jp",
    "phone": "090-1234-5678",
    "postal_code": "150-0001",
    "address": "東京都渋谷区神宮前1-2-3",
    "birth_date": "1988-04-12",
    "joined_on": "2024-06-01",
}
_MEMBER = {
    "member_number": "M-20261201-0042",
    "kind": "household",
    "status": "active",
    "age_band": "30-39",
    "prefecture": "13",
    "joined_on": "2024-06-01",
    "last_active_on": None,
    "created_at": "2026-12-01T00:00:00Z",
    "updated_at": "2026-12-01T00:00:00Z",
}
_DETAIL = {
    **_MEMBER,
    "personal": {
        "name": "山田 太郎",
        "name_kana": "ヤマダ タロウ",
        "email": "taro.yamada@example.jp",
        "phone": "09012345678",
        "postal_code": "150-0001",
        "address": "東京都渋谷区神宮前1-2-3",
        "birth_date": "1988-04-12",
    },
}


# --- Endpoints -------------------------------------------------------------------------------


class MemberPagination(CappedCursorPagination):
    # A member number is unique in its base and never changes, so a cursor on it is exact;
    # ``created_at`` ties for every row written by one bulk upsert.
    ordering = "member_number"


MemberPageOutput = page_of(MemberOutput)


class MemberListApi(PartnerEndpoint):
    """The caller's own member base."""

    required_scopes = {"GET": READ, "POST": WRITE}
    idempotency_redact = ("personal",)

    class MemberListFilters(df.FilterSet):
        kind = df.ChoiceFilter(choices=MemberAccount.Kind.choices, label="Only this kind.")
        status = df.ChoiceFilter(choices=MemberAccount.Status.choices, label="Only this status.")
        updated_since = UtcDateTimeFilter(
            field_name="updated_at",
            lookup_expr="gte",
            label="Only accounts changed at or after this ISO 8601 time.",
        )

        class Meta:
            model = MemberAccount
            fields: list[str] = []

    @extend_schema(
        parameters=[
            *filter_parameters(MemberListFilters),
        ],
        responses=MemberPageOutput,
        operation_id="members_list",
        summary="List members",
        description="Your own member accounts in member-number order, without personal data "
        "(the detail has it).",
        examples=[
            OpenApiExample(
                "A page",
                value={"next": None, "previous": None, "results": [_MEMBER]},
                response_only=True,
            )
        ],
    )
    @raises(ErrorCode.CONFLICT)
    def get(self, request: Request) -> Response:
        return self.filtered_page(
            self.MemberListFilters,
            selectors.member_list(partner=self.partner),
            MemberOutput,
            pagination=MemberPagination,
        )

    @extend_schema(
        request=MemberRecordInput,
        responses={201: MemberDetailOutput},
        summary="Create a member",
        description="Create one member account. A member number already in your base is a "
        "409 conflict; other partners' numbers are never consulted. Personal data is encrypted "
        "at rest and never shown to another company.",
        examples=[
            OpenApiExample("A household member", value=_RECORD, request_only=True),
            OpenApiExample("Created", value=_DETAIL, response_only=True, status_codes=[201]),
        ],
    )
    @raises(ErrorCode.CONFLICT)
    def post(self, request: Request) -> Response:
        data = MemberRecordInput(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.member_create(
            partner=self.partner, values=data.validated_data, actor=self.actor
        )
        return Response(_detail(member), status=status.HTTP_201_CREATED)


class MemberDetailApi(PartnerEndpoint):
    required_scopes = {"GET": READ, "PATCH": WRITE}

    @extend_schema_serializer(
        description="Only the fields sent change; null or empty clears an optional field. "
        "Sending `member_number` is allowed only unchanged."
    )
    class MemberDetailInput(MemberRecordInput):
        def get_fields(self) -> dict[str, serializers.Field]:
            fields = super().get_fields()
            for field in fields.values():
                field.required = False
            return fields

    @extend_schema(
        responses=MemberDetailOutput,
        summary="Get a member",
        description="One of your own member accounts, with its personal data decrypted. An "
        "erased account answers with its personal data all null.",
        examples=[OpenApiExample("A member", value=_DETAIL, response_only=True)],
    )
    def get(self, request: Request, member_number: str) -> Response:
        member = access_member_by_number(self.partner, member_number)
        return Response(_detail(member))

    @extend_schema(
        request=MemberDetailInput,
        responses=MemberDetailOutput,
        summary="Update a member",
        description="Change the fields sent and nothing else; `status: active` reactivates an "
        "inactive account. An erased account is a 409 conflict.",
        examples=[
            OpenApiExample(
                "A new address",
                value={"postal_code": "530-0001", "address": "大阪府大阪市北区梅田1-1-1"},
                request_only=True,
            )
        ],
    )
    @raises(ErrorCode.CONFLICT)
    def patch(self, request: Request, member_number: str) -> Response:
        member = access_member_by_number(self.partner, member_number)
        data = self.MemberDetailInput(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.member_update(member=member, values=data.validated_data, actor=self.actor)
        return Response(_detail(member))


class MemberDeactivateApi(PartnerEndpoint):
    required_scopes = {"POST": WRITE}
    idempotency_redact = ("personal",)

    @extend_schema(
        request=None,
        responses=MemberDetailOutput,
        summary="Deactivate a member",
        description="Mark an account inactive; an update with `status: active` reactivates it. "
        "An erased account is a 409 conflict.",
    )
    @raises(ErrorCode.CONFLICT)
    def post(self, request: Request, member_number: str) -> Response:
        member = access_member_by_number(self.partner, member_number)
        member = services.member_deactivate(member=member, actor=self.actor)
        return Response(_detail(member))


def _item_errors(detail: Any) -> Any:
    """DRF's ``{"members": {3: {"email": [...]}}}`` as ``{"members[3].email": [...]}``, the
    names the service gives its own errors, so a client reads one shape whichever layer
    refused an item."""
    if not isinstance(detail, Mapping) or not isinstance(detail.get("members"), Mapping):
        return detail
    flat = {name: value for name, value in detail.items() if name != "members"}
    for index, item in detail["members"].items():
        if not isinstance(item, Mapping):
            flat[f"members[{index}]"] = item
            continue
        for name, messages in item.items():
            key = f"members[{index}]" if name == "non_field_errors" else f"members[{index}].{name}"
            flat[key] = messages
    return flat


class MemberBulkApi(PartnerEndpoint):
    required_scopes = {"POST": WRITE}

    @extend_schema_serializer(description="Errors in items are named `members[<index>].<field>`.")
    class MemberBulkInput(StrictInputSerializer):
        members = serializers.ListField(
            child=MemberRecordInput(), min_length=1, max_length=MAX_BULK_MEMBERS
        )

        def to_internal_value(self, data: Any) -> Any:
            try:
                return super().to_internal_value(data)
            except serializers.ValidationError as error:
                raise serializers.ValidationError(_item_errors(error.detail)) from None

    class MemberBulkOutput(serializers.Serializer):
        class MemberBulkOutcomeOutput(serializers.Serializer):
            member_number = serializers.CharField()
            outcome = NamedChoiceField(
                schema_name="MemberBulkOutcomeEnum", choices=["created", "updated", "unchanged"]
            )

        created = serializers.IntegerField()
        updated = serializers.IntegerField()
        unchanged = serializers.IntegerField()
        results = MemberBulkOutcomeOutput(many=True, help_text="One per member, in input order.")

    @extend_schema(
        request=MemberBulkInput,
        responses=MemberBulkOutput,
        summary="Create or update members in bulk",
        description=f"Create or update up to {MAX_BULK_MEMBERS} accounts, all or nothing: one "
        "invalid record refuses the whole request, naming it (`members[3].email`). Each record "
        "is a full record: optional fields it leaves out are cleared, and a missing `status` "
        "means active. Unchanged records are left alone, so sending the same batch twice "
        "changes nothing.",
        examples=[
            OpenApiExample(
                "Two records",
                value={
                    "members": [
                        _RECORD,
                        {
                            "member_number": "B-0007",
                            "kind": "business",
                            "name": "株式会社さくら商事",
                            "email": "info@sakura-shoji.example",
                        },
                    ]
                },
                request_only=True,
            ),
            OpenApiExample(
                "The outcome",
                value={
                    "created": 1,
                    "updated": 1,
                    "unchanged": 0,
                    "results": [
                        {"member_number": "M-20261201-0042", "outcome": "updated"},
                        {"member_number": "B-0007", "outcome": "created"},
                    ],
                },
                response_only=True,
            ),
        ],
    )
    @raises(ErrorCode.CONFLICT)
    def post(self, request: Request) -> Response:
        data = self.MemberBulkInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.member_bulk_upsert(
            partner=self.partner, records=data.validated_data["members"], actor=self.actor
        )
        body: dict[str, Any] = {
            name: result.count(name) for name in ("created", "updated", "unchanged")
        }
        body["results"] = [
            {"member_number": number, "outcome": outcome}
            for number, outcome in result.outcomes.items()
        ]
        return Response(self.MemberBulkOutput(body).data)
