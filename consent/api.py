"""Consent endpoints: the purpose catalogue, the notice in force, recording and withdrawing a
member's consent, and the one question ("may I use these members' data for this purpose now?").

Partners act only on their own member accounts. The host's portal records consents on the
member's behalf for any recipient; a partner brand records only consents it collected itself,
in its own channels, with itself as the recipient. Consent events are never changed or deleted
through the API: a change of mind is a new grant or a withdrawal.
"""

from datetime import timedelta
from itertools import combinations
from typing import Any, ClassVar, cast

import django_filters as df
from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from consent.access import (
    access_consent_recipient,
    access_data_request_by_id,
    access_withdrawal_by_id,
)
from consent.models import (
    Channel,
    ConsentEvent,
    ConsentState,
    DataSubjectRequest,
    PrivacyNotice,
    Purpose,
    WithdrawalNotice,
)
from consent.preferences import preference_link_token
from consent.selectors import consent_check_many
from consent.services import (
    consent_grant,
    consent_withdraw,
    data_request_export,
    data_request_submit,
    withdrawal_acknowledge,
    withdrawal_due,
)
from consent.services.data_requests import IDENTITY_FACTS, MIN_IDENTITY_FACTS
from partners.access import access_member_by_number, access_member_ids_by_numbers
from partners.api.base import Handler, PartnerEndpoint, StrictInputSerializer
from partners.api.fields import NamedChoiceField
from partners.api.filters import StrictBooleanFilter, apply_filters, filter_parameters
from partners.api.pagination import CappedCursorPagination, page_of
from partners.api.schema import NON_BLANK, raises
from partners.errors import ApplicationError, ErrorCode, validation_failed
from partners.models import ApiScope, MemberAccount, Partner
from partners.services.members import MAX_BULK_MEMBERS

READ = ApiScope.READ.value
WRITE = ApiScope.WRITE.value

RECEIPT_VERSION = "KI-CR-v1.1.0"
# The channels a partner brand collects consent in itself; the host portal is the host's, and
# the preference page is Sanpo's own.
BRAND_CHANNELS = frozenset(
    {Channel.PARTNER_APP, Channel.PAPER, Channel.CALL_CENTRE, Channel.STAFF_VISIT}
)
DECISION_REASONS = [
    "consented",
    "not_consented",
    "withdrawn",
    "expired",
    "notice_changed",
    "member_unavailable",
    "recipient_unavailable",
    "not_found",
]


def _channel_field(**kwargs: Any) -> NamedChoiceField:
    return NamedChoiceField(schema_name="ConsentChannelEnum", choices=Channel.choices, **kwargs)


# Channels only Sanpo itself records through: the member's own preference page, and the
# withdrawals an erasure request makes. The API refuses them (403, saying why), so its schema
# does not offer them.
API_CHANNELS = [
    channel
    for channel in Channel.values
    if channel not in {Channel.PREFERENCE_PAGE, Channel.DATA_SUBJECT_REQUEST}
]


def _input_channel_field(**kwargs: Any) -> NamedChoiceField:
    return NamedChoiceField(
        schema_name="ConsentInputChannelEnum",
        choices=Channel.choices,
        offered=API_CHANNELS,
        **kwargs,
    )


def _language_field(**kwargs: Any) -> NamedChoiceField:
    return NamedChoiceField(
        schema_name="NoticeLanguageEnum", choices=PrivacyNotice.Language.choices, **kwargs
    )


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time that must carry its offset. DRF would read a naive time in the server's
    zone; a consent record must say exactly when, so a naive time is refused instead."""

    def enforce_timezone(self, value: Any) -> Any:
        if value.tzinfo is None or value.utcoffset() is None:
            raise serializers.ValidationError(
                "Give a timezone-aware time (with an offset, e.g. +09:00).", code="naive"
            )
        return super().enforce_timezone(value)


def _serializer(name: str, doc: str, fields: dict[str, Any]) -> type[serializers.Serializer]:
    # The consent receipt's field names are Kantara's own (camelCase); building the class with
    # type() keeps them as they are without renaming every attribute for the linter.
    return cast(
        type[serializers.Serializer],
        type(name, (serializers.Serializer,), {"__doc__": doc, **fields}),
    )


# --- Output ----------------------------------------------------------------------------------


class PurposeOutput(serializers.ModelSerializer):
    class Meta:
        model = Purpose
        fields = ["code", "name_ja", "name_en", "description_ja", "description_en"]


class NoticeConditionsOutput(serializers.Serializer):
    purposes = serializers.ListField(child=serializers.CharField(), help_text="Purpose codes.")
    recipients = serializers.ListField(
        child=serializers.CharField(), help_text="Slugs of the partners the data may go to."
    )
    data_items = serializers.ListField(
        child=serializers.CharField(), help_text="The member data items covered."
    )


class NoticeOutput(serializers.ModelSerializer):
    language = _language_field()
    conditions = NoticeConditionsOutput()

    class Meta:
        model = PrivacyNotice
        fields = [
            "id",
            "version",
            "language",
            "effective_at",
            "content_sha256",
            "conditions",
            "text",
        ]


class ConsentStateOutput(serializers.Serializer):
    purpose = serializers.CharField(source="purpose_id")
    recipient = serializers.CharField(source="recipient.slug", help_text="The partner's slug.")
    granted = serializers.BooleanField(
        help_text="True from a grant until its withdrawal. A granted consent past its expiry, "
        "or given under a notice since superseded, is not in force: ask `consent/check`."
    )
    expires_at = serializers.DateTimeField(allow_null=True)
    notice_version = serializers.IntegerField(
        source="notice.version", allow_null=True, help_text="Null after a withdrawal."
    )
    changed_at = serializers.DateTimeField()


class ConsentEventOutput(serializers.ModelSerializer):
    member_number = serializers.CharField(source="member.member_number")
    action = NamedChoiceField(schema_name="ConsentActionEnum", choices=ConsentEvent.Action.choices)
    purpose = serializers.CharField(source="purpose_id")
    recipient = serializers.CharField(source="recipient.slug")
    channel = _channel_field()

    class Meta:
        model = ConsentEvent
        fields = [
            "id",
            "member_number",
            "sequence",
            "action",
            "purpose",
            "recipient",
            "channel",
            "occurred_at",
            "recorded_at",
            "previous_hash",
            "hash",
        ]


ConsentReceiptControllerOutput = _serializer(
    "ConsentReceiptControllerOutput",
    "The company that collected the consent.",
    {"piiController": serializers.CharField()},
)

ConsentReceiptPurposeOutput = _serializer(
    "ConsentReceiptPurposeOutput",
    "What the member agreed to, for one recipient.",
    {
        "purpose": serializers.CharField(help_text="The purpose's name, in the notice language."),
        "consentType": serializers.CharField(),
        "piiCategory": serializers.ListField(
            child=serializers.CharField(), help_text="The data items of the notice."
        ),
        "primaryPurpose": serializers.BooleanField(),
        "termination": serializers.CharField(
            help_text="The expiry (ISO 8601), or `on withdrawal`."
        ),
        "thirdPartyDisclosure": serializers.BooleanField(),
        "thirdPartyName": serializers.CharField(help_text="The recipient's name."),
    },
)

ConsentReceiptServiceOutput = _serializer(
    "ConsentReceiptServiceOutput",
    "One purpose code and what it covers.",
    {
        "service": serializers.CharField(help_text="The purpose code."),
        "purposes": ConsentReceiptPurposeOutput(many=True),
    },
)

ConsentReceiptOutput = _serializer(
    "ConsentReceiptOutput",
    "A consent receipt in the fields of the Kantara Initiative Consent Receipt v1.1, with the "
    "event's place in the member's hash chain (`chainHash`, `sequence`).",
    {
        "version": serializers.CharField(),
        "jurisdiction": serializers.CharField(),
        "consentTimestamp": serializers.IntegerField(help_text="Unix seconds."),
        "collectionMethod": _channel_field(),
        "consentReceiptID": serializers.UUIDField(help_text="The consent event's id."),
        "publicKey": serializers.CharField(allow_null=True),
        "language": _language_field(),
        "piiPrincipalId": serializers.CharField(help_text="`<partner slug>:<member number>`."),
        "piiControllers": ConsentReceiptControllerOutput(many=True),
        "policyUrl": serializers.CharField(allow_null=True),
        "services": ConsentReceiptServiceOutput(many=True),
        "sensitive": serializers.BooleanField(),
        "spiCat": serializers.ListField(child=serializers.CharField()),
        "chainHash": serializers.CharField(help_text="The event's hash in the member's chain."),
        "sequence": serializers.IntegerField(help_text="The event's number in the chain."),
    },
)


def _receipt(event: ConsentEvent, *, caller: Partner, member: MemberAccount) -> dict[str, Any]:
    notice = event.notice
    assert notice is not None  # a grant always names its notice (a check constraint says so)
    purpose = event.purpose
    recipient = event.recipient
    termination = (
        serializers.DateTimeField().to_representation(event.expires_at)
        if event.expires_at is not None
        else "on withdrawal"
    )
    receipt = {
        "version": RECEIPT_VERSION,
        "jurisdiction": event.jurisdiction,
        "consentTimestamp": int(event.occurred_at.timestamp()),
        "collectionMethod": event.channel,
        "consentReceiptID": event.id,
        "publicKey": None,
        "language": notice.language,
        "piiPrincipalId": f"{caller.slug}:{member.member_number}",
        "piiControllers": [{"piiController": caller.name_latin}],
        "policyUrl": None,
        "services": [
            {
                "service": purpose.code,
                "purposes": [
                    {
                        "purpose": purpose.name_ja if notice.language == "ja" else purpose.name_en,
                        "consentType": "EXPLICIT",
                        "piiCategory": notice.conditions["data_items"],
                        "primaryPurpose": True,
                        "termination": termination,
                        "thirdPartyDisclosure": True,
                        "thirdPartyName": recipient.name_latin,
                    }
                ],
            }
        ],
        "sensitive": False,
        "spiCat": [],
        "chainHash": event.hash,
        "sequence": event.sequence,
    }
    return dict(ConsentReceiptOutput(receipt).data)


# --- Rules -----------------------------------------------------------------------------------


def _notice(notice_id: Any) -> PrivacyNotice:
    notice = PrivacyNotice.objects.filter(pk=notice_id).first()
    if notice is None:
        raise validation_failed("notice", "Unknown notice.")
    return notice


def _check_may_record(caller: Partner, *, channel: str) -> None:
    """Refuse a consent (or withdrawal) the caller may not record. The host's portal records on
    the member's behalf for any recipient; a brand only what it collected itself, for itself."""
    if channel == Channel.PREFERENCE_PAGE:
        raise ApplicationError(
            ErrorCode.PERMISSION_DENIED,
            "Only the member's own preference page records through the preference_page channel.",
        )
    if channel == Channel.DATA_SUBJECT_REQUEST:
        raise ApplicationError(
            ErrorCode.PERMISSION_DENIED,
            "Only an erasure request records through the data_subject_request channel (its "
            "withdrawals); no consent is ever granted through it.",
        )
    if caller.kind == Partner.Kind.HOST:
        return
    # The recipient came through access_consent_recipient, which holds a brand to itself.
    if channel not in BRAND_CHANNELS:
        raise ApplicationError(
            ErrorCode.PERMISSION_DENIED,
            "A partner brand records consents only through its own channels: "
            f"{', '.join(sorted(BRAND_CHANNELS))}.",
        )


# --- Endpoints -------------------------------------------------------------------------------


class PurposeListOutput(serializers.Serializer):
    results = PurposeOutput(many=True)


class PurposeListApi(PartnerEndpoint):
    """The purposes a member can consent to."""

    required_scopes = {"GET": READ}

    @extend_schema(
        responses=PurposeListOutput,
        operation_id="consent_purposes_list",
        description="The purpose catalogue, by code. Codes are stable.",
    )
    def get(self, request: Request) -> Response:
        purposes = Purpose.objects.filter(active=True).order_by("code")
        return Response({"results": PurposeOutput(purposes, many=True).data})


class NoticeListOutput(serializers.Serializer):
    results = NoticeOutput(many=True)


class NoticeCurrentApi(PartnerEndpoint):
    """The privacy notice in force now, one per language."""

    required_scopes = {"GET": READ}

    @extend_schema(
        responses=NoticeListOutput,
        operation_id="consent_notices_current",
        description="For each language, the newest notice in effect whose conditions are the "
        "current ones: the notices a member may be shown before consenting. A consent names "
        "the notice id the member saw.",
    )
    def get(self, request: Request) -> Response:
        now = timezone.now()
        newest = PrivacyNotice.objects.filter(effective_at__lte=now).order_by("-version").first()
        notices: list[PrivacyNotice] = []
        if newest is not None:
            # A later version that only rewords one language keeps the conditions, so another
            # language's earlier version is still good to show.
            candidates = PrivacyNotice.objects.filter(
                effective_at__lte=now,
                conditions_sha256=newest.conditions_sha256,
            ).order_by("language", "-version")
            seen: set[str] = set()
            for notice in candidates:
                if notice.language not in seen:
                    seen.add(notice.language)
                    notices.append(notice)
        return Response({"results": NoticeOutput(notices, many=True).data})


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
        channel = _input_channel_field(help_text="Where the member gave the consent.")
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
        description="The current consent of the member for each purpose and recipient ever "
        "consented to, granted or withdrawn.",
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
        description="Record that the member consented to one purpose for one recipient, under "
        "the notice they saw (which must be the one in force and cover both). The host's "
        "portal records for any recipient; a partner brand only for itself, through its own "
        "channels (`partner_app`, `paper`, `call_centre`, `staff_visit`), or gets 403.",
    )
    @raises(ErrorCode.PERMISSION_DENIED, ErrorCode.CONFLICT)
    def post(self, request: Request, member_number: str) -> Response:
        member = access_member_by_number(self.partner, member_number)
        data = self.ConsentGrantInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        recipient = access_consent_recipient(self.partner, values["recipient"])
        _check_may_record(self.partner, channel=values["channel"])
        event = consent_grant(
            member=member,
            purpose_code=values["purpose"],
            recipient=recipient,
            notice=_notice(values["notice"]),
            channel=values["channel"],
            occurred_at=values["occurred_at"],
            actor=self.actor,
            expires_at=values.get("expires_at"),
            jurisdiction=values["jurisdiction"],
        )
        body = _receipt(event, caller=self.partner, member=member)
        return Response(body, status=status.HTTP_201_CREATED)


class MemberConsentWithdrawApi(PartnerEndpoint):
    """Withdraw one consent of one of the caller's own members."""

    required_scopes = {"POST": WRITE}

    class ConsentWithdrawInput(StrictInputSerializer):
        purpose = serializers.CharField(max_length=40, help_text="A purpose code.")
        recipient = serializers.SlugField(max_length=50, help_text="The recipient's slug.")
        channel = _input_channel_field(help_text="Where the member withdrew.")
        occurred_at = AwareDateTimeField(
            help_text="When the member withdrew: ISO 8601 with an offset, not in the future."
        )

    @extend_schema(
        request=ConsentWithdrawInput,
        responses=ConsentEventOutput,
        operation_id="member_consents_withdraw",
        description="In force for every check from the moment it returns. The same rules as "
        "recording apply to who may record it; no consent in force is a 409 conflict.",
    )
    @raises(ErrorCode.PERMISSION_DENIED, ErrorCode.CONFLICT)
    def post(self, request: Request, member_number: str) -> Response:
        member = access_member_by_number(self.partner, member_number)
        data = self.ConsentWithdrawInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        recipient = access_consent_recipient(self.partner, values["recipient"])
        _check_may_record(self.partner, channel=values["channel"])
        event = consent_withdraw(
            member=member,
            purpose_code=values["purpose"],
            recipient=recipient,
            channel=values["channel"],
            occurred_at=values["occurred_at"],
            actor=self.actor,
        )
        return Response(ConsentEventOutput(event).data)


class ConsentCheckApi(PartnerEndpoint):
    """The one question, for the caller as recipient: may I use these members' data for this
    purpose now? A read, sent as POST only because a thousand member numbers do not fit in a
    URL."""

    required_scopes = {"POST": READ}

    class ConsentCheckInput(StrictInputSerializer):
        purpose = serializers.CharField(max_length=40, help_text="A purpose code.")
        members = serializers.ListField(
            child=serializers.CharField(max_length=64),
            min_length=1,
            max_length=MAX_BULK_MEMBERS,
            help_text="Member numbers of your own base.",
        )

    class ConsentCheckOutput(serializers.Serializer):
        class ConsentCheckResultOutput(serializers.Serializer):
            member_number = serializers.CharField(help_text="As sent.")
            allowed = serializers.BooleanField()
            reason = NamedChoiceField(
                schema_name="ConsentDecisionReasonEnum",
                choices=DECISION_REASONS,
                help_text="`consented` when allowed; otherwise why not. `not_found`: no such "
                "member in your base.",
            )

        results = ConsentCheckResultOutput(many=True, help_text="One per number, in order.")

    def _run_idempotently(
        self, handler: Handler, request: Request, *args: Any, **kwargs: Any
    ) -> Response:
        # The answer must be the current one: replaying a stored "allowed" after a withdrawal
        # would break the promise that a withdrawal is in force for every check at once. So an
        # Idempotency-Key is neither required nor stored here; a retry simply asks again.
        return self._run_atomically(handler, request, *args, **kwargs)

    @extend_schema(
        request=ConsentCheckInput,
        responses=ConsentCheckOutput,
        operation_id="consent_check",
        description="Whether each of your members' data may be used by you, for this purpose, "
        "now. Needs only the read scope; an Idempotency-Key is ignored.",
    )
    def post(self, request: Request) -> Response:
        data = self.ConsentCheckInput(data=request.data)
        data.is_valid(raise_exception=True)
        purpose_code: str = data.validated_data["purpose"]
        numbers: list[str] = data.validated_data["members"]
        if not Purpose.objects.filter(code=purpose_code, active=True).exists():
            raise validation_failed("purpose", f"There is no purpose {purpose_code!r}.")
        member_ids = access_member_ids_by_numbers(self.partner, numbers)
        decisions = consent_check_many(
            member_ids=set(member_ids.values()), purpose_code=purpose_code, recipient=self.partner
        )
        results = []
        for number in numbers:
            member_id = member_ids.get(number)
            if member_id is None:
                results.append({"member_number": number, "allowed": False, "reason": "not_found"})
                continue
            decision = decisions[member_id]
            results.append(
                {"member_number": number, "allowed": decision.allowed, "reason": decision.reason}
            )
        return Response(self.ConsentCheckOutput({"results": results}).data)


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
    """Withdrawals of consents your company received data under; `?pending=true` for the ones
    you have not acknowledged yet."""

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

    @extend_schema(
        parameters=filter_parameters(WithdrawalFilters),
        responses=page_of(WithdrawalOutput),
    )
    def get(self, request: Request) -> Response:
        notices = WithdrawalNotice.objects.filter(recipient=self.partner).select_related("event")
        notices = apply_filters(self.WithdrawalFilters, request.query_params, notices)
        return self.paginated(notices.order_by("created_at"), WithdrawalOutput)


class WithdrawalAcknowledgeApi(PartnerEndpoint):
    """Confirm that your company stopped using the member's data. Repeating it is harmless."""

    required_scopes = {"POST": WRITE}

    @extend_schema(request=None, responses=WithdrawalOutput)
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

    @extend_schema(request=None, responses={201: PreferenceLinkOutput})
    @raises(ErrorCode.CONFLICT)
    def post(self, request: Request, member_number: str) -> Response:
        member = access_member_by_number(self.partner, member_number)
        if member.status == MemberAccount.Status.ERASED:
            raise ApplicationError(ErrorCode.CONFLICT, "This member's data has been erased.")
        token = preference_link_token(member)
        output = {
            "url": request.build_absolute_uri(f"/preferences/{token}/"),
            "expires_at": timezone.now() + timedelta(hours=settings.SANPO_PREFERENCE_LINK_HOURS),
        }
        return Response(PreferenceLinkOutput(output).data, status=status.HTTP_201_CREATED)


# --- Data-subject requests -------------------------------------------------------------------


class DataRequestOutput(serializers.ModelSerializer):
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
        description="Verifies the requester's identity against the member's record, then records "
        "the request (201), or returns the open one it repeats (200) — verified just the "
        "same. An erasure runs at once: the member's personal data becomes unreadable, every "
        "consent is withdrawn and every recipient told. Repeating an erasure is harmless. A "
        "mismatch is 403 `identity_not_verified` and records nothing.",
    )
    @raises(ErrorCode.IDENTITY_NOT_VERIFIED, ErrorCode.CONFLICT)
    def post(self, request: Request, member_number: str) -> Response:
        member = access_member_by_number(self.partner, member_number)
        data = self.DataRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
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

    @extend_schema(
        parameters=filter_parameters(DataRequestFilters),
        responses=page_of(DataRequestOutput),
    )
    def get(self, request: Request) -> Response:
        found = DataSubjectRequest.objects.filter(member__partner=self.partner).select_related(
            "member"
        )
        found = apply_filters(self.DataRequestFilters, request.query_params, found)
        return self.paginated(found, DataRequestOutput, pagination=DataRequestPagination)


class DataRequestDetailApi(PartnerEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(responses=DataRequestOutput)
    def get(self, request: Request, request_id: str) -> Response:
        found = access_data_request_by_id(self.partner, request_id)
        return Response(DataRequestOutput(found).data)


class DataRequestExportApi(PartnerEndpoint):
    """Everything the federation holds about the member of an access request, for the holder
    to hand to the member. Opening the personal data is logged; the first export completes the
    request."""

    required_scopes = {"GET": READ}

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        description="A JSON document (`format`: `sanpo-data-subject-export/1`): the account and "
        "its personal data, the consent history and current consents with every recipient, the "
        "ids recipients know the member by, provision records, withdrawals sent and the "
        "member's requests. 409 for an erasure request or an account erased since.",
    )
    @raises(ErrorCode.CONFLICT)
    def get(self, request: Request, request_id: str) -> Response:
        found = access_data_request_by_id(self.partner, request_id)
        document = data_request_export(request=found, actor=self.actor)
        response = Response(document)
        response["Cache-Control"] = "no-store"
        return response
