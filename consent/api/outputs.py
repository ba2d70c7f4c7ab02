"""The consent records as the API shows them (states, events, the Kantara-style receipt), and
the rules of who may record what."""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from consent.api.fields import (
    RECEIPT_VERSION,
    ModelOutput,
    channel_field,
    language_field,
    named_serializer,
)
from consent.models import (
    ConsentEvent,
    PrivacyNotice,
    Purpose,
)
from partners.api.fields import NamedChoiceField
from partners.errors import validation_failed
from partners.models import MemberAccount, Partner

# --- Output ----------------------------------------------------------------------------------


class PurposeOutput(ModelOutput):
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


class NoticeOutput(ModelOutput):
    language = language_field()
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


class ConsentEventOutput(ModelOutput):
    member_number = serializers.CharField(source="member.member_number")
    action = NamedChoiceField(schema_name="ConsentActionEnum", choices=ConsentEvent.Action.choices)
    purpose = serializers.CharField(source="purpose_id")
    recipient = serializers.CharField(source="recipient.slug")
    channel = channel_field()

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
        extra_kwargs = {
            "occurred_at": {"help_text": "When the member said so (aware, any zone)."},
        }


ConsentReceiptControllerOutput = named_serializer(
    "ConsentReceiptControllerOutput",
    "The company that collected the consent.",
    {"piiController": serializers.CharField()},
)

ConsentReceiptPurposeOutput = named_serializer(
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

ConsentReceiptServiceOutput = named_serializer(
    "ConsentReceiptServiceOutput",
    "One purpose code and what it covers.",
    {
        "service": serializers.CharField(help_text="The purpose code."),
        "purposes": ConsentReceiptPurposeOutput(many=True),
    },
)

ConsentReceiptOutput = named_serializer(
    "ConsentReceiptOutput",
    "A consent receipt in the fields of the Kantara Initiative Consent Receipt v1.1, with the "
    "event's place in the member's hash chain (`chainHash`, `sequence`).",
    {
        "version": serializers.CharField(),
        "jurisdiction": serializers.CharField(),
        "consentTimestamp": serializers.IntegerField(help_text="Unix seconds."),
        "collectionMethod": channel_field(),
        "consentReceiptID": serializers.UUIDField(help_text="The consent event's id."),
        "publicKey": serializers.CharField(allow_null=True),
        "language": language_field(),
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


def receipt_of(event: ConsentEvent, *, caller: Partner, member: MemberAccount) -> dict[str, Any]:
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


def notice_by_id(notice_id: Any) -> PrivacyNotice:
    notice = PrivacyNotice.objects.filter(pk=notice_id).first()
    if notice is None:
        raise validation_failed("notice", _("Unknown notice."))
    return notice
