"""Withdrawals sent to the caller, their acknowledgement, and preference links."""

from datetime import timedelta

import django_filters as df
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from consent.access import (
    access_withdrawal_by_id,
)
from consent.api.fields import (
    READ,
    WRITE,
)
from consent.models import (
    WithdrawalNotice,
)
from consent.preference_page.links import preference_link_token
from consent.services import (
    withdrawal_acknowledge,
    withdrawal_due,
)
from partners.access import access_member_by_number
from partners.api.base import PartnerEndpoint
from partners.api.filters import StrictBooleanFilter, list_schema
from partners.api.schema import raises
from partners.errors import ApplicationError, ErrorCode
from partners.models import MemberAccount


class WithdrawalOutput(serializers.Serializer):
    withdrawal_id = serializers.UUIDField(source="event_id")
    member = serializers.CharField(
        source="member_pseudonym", help_text="The member's pseudonymous id for your company."
    )
    purpose = serializers.CharField(source="event.purpose_id")
    withdrawn_at = serializers.DateTimeField(source="event.occurred_at")
    acknowledge_by = serializers.SerializerMethodField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.SerializerMethodField()
    times_sent = serializers.IntegerField()

    def get_acknowledge_by(self, notice: WithdrawalNotice) -> str:
        return withdrawal_due(notice).isoformat()

    def get_overdue(self, notice: WithdrawalNotice) -> bool:
        return notice.acknowledged_at is None and withdrawal_due(notice) < timezone.now()


class WithdrawalListApi(PartnerEndpoint):
    required_scopes = {"GET": READ}

    class WithdrawalFilters(df.FilterSet):
        pending = StrictBooleanFilter(
            field_name="acknowledged_at",
            lookup_expr="isnull",
            label="`true`: only the ones not acknowledged yet; `false`: only acknowledged ones.",
        )

        class Meta:
            model = WithdrawalNotice
            fields: list[str] = []

    @list_schema(
        WithdrawalFilters,
        WithdrawalOutput,
        summary="List withdrawals to act on",
        description="Withdrawals of consents your company received data under, oldest first, "
        "each naming the member by your pseudonymous id for them. Stop using the data, then "
        "acknowledge; `?pending=true` lists the ones not acknowledged yet. An unacknowledged "
        "withdrawal is sent again and turns overdue after its `acknowledge_by`.",
    )
    def get(self, request: Request) -> Response:
        notices = WithdrawalNotice.objects.filter(recipient=self.partner).select_related("event")
        return self.filtered_page(
            self.WithdrawalFilters, notices.order_by("created_at"), WithdrawalOutput
        )


class WithdrawalAcknowledgeApi(PartnerEndpoint):
    required_scopes = {"POST": WRITE}

    @extend_schema(
        request=None,
        responses=WithdrawalOutput,
        summary="Acknowledge a withdrawal",
        description="Confirm that your company stopped using the member's data. Repeating it "
        "is harmless.",
    )
    def post(self, request: Request, withdrawal_id: str) -> Response:
        notice = access_withdrawal_by_id(self.partner, withdrawal_id)
        notice = withdrawal_acknowledge(notice=notice, actor=self.actor)
        return Response(WithdrawalOutput(notice).data)


class PreferenceLinkOutput(serializers.Serializer):
    url = serializers.URLField(help_text="Send this to the member; it works for them alone.")
    expires_at = serializers.DateTimeField()


class PreferenceLinkApi(PartnerEndpoint):
    """A link to the member's preference page, where they see who may use which of their data
    for what and withdraw with one click. It needs no log-in, so give it to the member only."""

    required_scopes = {"POST": WRITE}
    # The link is a credential for the member's page: never stored for Idempotency-Key replay.
    idempotency_redact = ("url",)

    @extend_schema(
        request=None,
        responses={201: PreferenceLinkOutput},
        summary="Make a preference link",
        description="A signed link to the member's preference page, where they see who may use "
        "which of their data for what and withdraw with one click. It needs no log-in, so give "
        "it to the member only; it expires (`expires_at`) and is never replayed for an "
        "Idempotency-Key. An erased member is a 409 conflict.",
        examples=[
            OpenApiExample(
                "A link",
                value={
                    "url": "https://sanpo.example/preferences/eyJtIjoi…/",
                    "expires_at": "2026-12-08T00:00:00Z",
                },
                response_only=True,
                status_codes=[201],
            )
        ],
    )
    @raises(ErrorCode.CONFLICT)
    def post(self, request: Request, member_number: str) -> Response:
        member = access_member_by_number(self.partner, member_number)
        if member.status == MemberAccount.Status.ERASED:
            raise ApplicationError(ErrorCode.CONFLICT, _("This member's data has been erased."))
        token = preference_link_token(member)
        output = {
            "url": request.build_absolute_uri(f"/preferences/{token}/"),
            "expires_at": timezone.now() + timedelta(hours=settings.SANPO_PREFERENCE_LINK_HOURS),
        }
        return Response(PreferenceLinkOutput(output).data, status=status.HTTP_201_CREATED)
