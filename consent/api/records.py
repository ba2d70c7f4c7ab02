"""Recording and withdrawing one member's consent."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from consent.access import (
    access_consent_recipient,
)
from consent.api.fields import (
    READ,
    WRITE,
    AwareDateTimeField,
    input_channel_field,
)
from consent.api.outputs import (
    ConsentEventOutput,
    ConsentReceiptOutput,
    ConsentStateOutput,
    notice_by_id,
    receipt_of,
)
from consent.models import (
    ConsentState,
)
from consent.services import (
    consent_grant,
    consent_withdraw,
)
from partners.access import access_member_by_number
from partners.api.base import PartnerEndpoint, StrictInputSerializer
from partners.api.schema import raises
from partners.errors import ErrorCode


class MemberConsentListOutput(serializers.Serializer):
    results = ConsentStateOutput(many=True)


class MemberConsentListApi(PartnerEndpoint):
    """The consents of one of the caller's own members. Events are append-only: there is no
    update or delete here, only a new grant (POST) or a withdrawal (``consents/withdraw``)."""

    required_scopes = {"GET": READ, "POST": WRITE}

    class ConsentGrantInput(StrictInputSerializer):
        purpose = serializers.CharField(max_length=40, help_text="A purpose code.")
        recipient = serializers.SlugField(
            max_length=50, help_text="The slug of the one partner the data may go to."
        )
        notice = serializers.UUIDField(help_text="The id of the notice the member saw.")
        channel = input_channel_field(help_text="Where the member gave the consent.")
        occurred_at = AwareDateTimeField(
            help_text="When the member consented: ISO 8601 with an offset, not in the future."
        )
        expires_at = AwareDateTimeField(
            required=False, allow_null=True, help_text="When the consent lapses; none if absent."
        )
        jurisdiction = serializers.RegexField(
            r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$",
            max_length=8,
            required=False,
            default="JP",
            help_text="ISO 3166 country (or subdivision) whose law the consent is given under.",
        )

    @extend_schema(
        responses=MemberConsentListOutput,
        operation_id="member_consents_list",
        summary="List a member's consents",
        description="The current consent of one of your members for each purpose and recipient "
        "ever consented to, granted or withdrawn. Events are append-only: there is no update "
        "or delete, only a new grant or a withdrawal.",
    )
    def get(self, request: Request, member_number: str) -> Response:
        member = access_member_by_number(self.partner, member_number)
        states = (
            ConsentState.objects.filter(member=member)
            .select_related("recipient", "notice")
            .order_by("purpose_id", "recipient__slug")
        )
        return Response({"results": ConsentStateOutput(states, many=True).data})

    @extend_schema(
        request=ConsentGrantInput,
        responses={201: ConsentReceiptOutput},
        operation_id="member_consents_create",
        summary="Record a consent",
        examples=[
            OpenApiExample(
                "Consent to co-marketing contact, in the brand's app",
                value={
                    "purpose": "co_marketing_contact",
                    "recipient": "midori-fitness",
                    "notice": "9b2f4c1e-6a3d-4e8b-a7c5-1d2e3f4a5b6c",
                    "channel": "partner_app",
                    "occurred_at": "2026-12-01T10:15:00+09:00",
                    "expires_at": None,
                    "jurisdiction": "JP",
                },
                request_only=True,
            )
        ],
        description="Record that the member consented to one purpose for one recipient, under "
        "the notice they saw (which must be the one in force and cover both). The host's "
        "portal records for any recipient; a partner brand only for itself, through its own "
        "channels (`partner_app`, `paper`, `call_centre`, `staff_visit`), or gets 403.",
    )
    @raises(ErrorCode.PERMISSION_DENIED, ErrorCode.CONFLICT)
    def post(self, request: Request, member_number: str) -> Response:
        member = access_member_by_number(self.partner, member_number)
        values = self.validated(self.ConsentGrantInput)
        recipient = access_consent_recipient(
            self.partner, values["recipient"], channel=values["channel"]
        )
        event = consent_grant(
            member=member,
            purpose_code=values["purpose"],
            recipient=recipient,
            notice=notice_by_id(values["notice"]),
            channel=values["channel"],
            occurred_at=values["occurred_at"],
            actor=self.actor,
            expires_at=values.get("expires_at"),
            jurisdiction=values["jurisdiction"],
        )
        body = receipt_of(event, caller=self.partner, member=member)
        return Response(body, status=status.HTTP_201_CREATED)


class MemberConsentWithdrawApi(PartnerEndpoint):
    """Withdraw one consent of one of the caller's own members."""

    required_scopes = {"POST": WRITE}

    class ConsentWithdrawInput(StrictInputSerializer):
        purpose = serializers.CharField(max_length=40, help_text="A purpose code.")
        recipient = serializers.SlugField(max_length=50, help_text="The recipient's slug.")
        channel = input_channel_field(help_text="Where the member withdrew.")
        occurred_at = AwareDateTimeField(
            help_text="When the member withdrew: ISO 8601 with an offset, not in the future."
        )

    @extend_schema(
        request=ConsentWithdrawInput,
        responses=ConsentEventOutput,
        operation_id="member_consents_withdraw",
        summary="Withdraw a consent",
        description="In force for every check from the moment it returns; the recipient is "
        "told at once (`consent.withdrawn`, naming the member by its own pseudonymous id). "
        "The same rules as recording apply to who may record it; no consent in force is a 409 "
        "conflict.",
        examples=[
            OpenApiExample(
                "Withdrawn at the call centre",
                value={
                    "purpose": "co_marketing_contact",
                    "recipient": "midori-fitness",
                    "channel": "call_centre",
                    "occurred_at": "2026-12-02T14:00:00+09:00",
                },
                request_only=True,
            )
        ],
    )
    @raises(ErrorCode.PERMISSION_DENIED, ErrorCode.CONFLICT)
    def post(self, request: Request, member_number: str) -> Response:
        member = access_member_by_number(self.partner, member_number)
        values = self.validated(self.ConsentWithdrawInput)
        recipient = access_consent_recipient(
            self.partner, values["recipient"], channel=values["channel"]
        )
        event = consent_withdraw(
            member=member,
            purpose_code=values["purpose"],
            recipient=recipient,
            channel=values["channel"],
            occurred_at=values["occurred_at"],
            actor=self.actor,
        )
        return Response(ConsentEventOutput(event).data)
