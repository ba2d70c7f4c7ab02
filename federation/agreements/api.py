"""Agreement endpoints: the agreements a partner is party to, the terms of their versions, what
changed between two versions, and a party's signature.

Alliance managers draft, propose, suspend and end agreements in the admin; each party's partner
admin reads and signs here. A partner sees only what ``federation.access`` lets it: agreements
it is or was a party to and, in them, the proposed versions that name it.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

import django_filters as df
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, prefetch_related_objects
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from federation.agreements.access import (
    access_agreement_by_id,
    access_version_by_number,
    versions_visible_to,
)
from federation.agreements.models import Agreement, AgreementParty, AgreementVersion
from federation.agreements.selectors import agreement_list, version_diff, version_in_force
from federation.agreements.services import version_sign
from federation.kernel.api import ADMIN, READ, FederationEndpoint, choice_field
from partners.api.base import StrictInputSerializer
from partners.api.filters import list_schema
from partners.api.schema import raises
from partners.errors import ErrorCode
from partners.models import Partner

# --- An agreement as one party sees it -------------------------------------------------------


@dataclass(frozen=True)
class PartyView:
    agreement: Agreement
    versions: list[AgreementVersion]  # those the caller may read, by number
    version_in_force: int | None
    awaiting_your_signature: int | None


def _party_view_prefetches(caller: Partner) -> list[Prefetch]:
    """What ``_party_view`` reads, fetched once for a whole page of agreements."""
    awaits_caller = AgreementParty.objects.filter(
        version=OuterRef("pk"), partner=caller, signed_at__isnull=True
    )
    return [
        Prefetch(
            "versions",
            queryset=versions_visible_to(caller)
            .annotate(awaits_caller=Exists(awaits_caller))
            .order_by("number"),
            to_attr="visible_versions",
        ),
        # ``version_in_force`` reads this attribute when it is there instead of querying.
        Prefetch(
            "versions",
            queryset=AgreementVersion.objects.filter(status=AgreementVersion.Status.SIGNED),
            to_attr="signed_versions",
        ),
    ]


def _prefetched(obj: models.Model, name: str) -> Any:
    # A ``to_attr`` or annotation of the prefetches above; a KeyError if a view forgot them.
    return obj.__dict__[name]


def _party_view(agreement: Agreement, *, today: date) -> PartyView:
    visible: list[AgreementVersion] = _prefetched(agreement, "visible_versions")
    readable = {version.number for version in visible}
    in_force = (
        version_in_force(agreement, today) if agreement.status == Agreement.Status.ACTIVE else None
    )
    awaiting = [
        version.number
        for version in visible
        if version.status == AgreementVersion.Status.PROPOSED
        and _prefetched(version, "awaits_caller")
    ]
    return PartyView(
        agreement=agreement,
        versions=visible,
        # Terms in force that do not name the caller (it joined later, or left) bind it to
        # nothing: for the caller, nothing is in force.
        version_in_force=in_force.number
        if in_force is not None and in_force.number in readable
        else None,
        awaiting_your_signature=awaiting[0] if awaiting else None,
    )


# --- Output ----------------------------------------------------------------------------------


class AgreementVersionSummaryOutput(serializers.ModelSerializer):
    status = choice_field(
        AgreementVersion.Status,
        help_text="`proposed`: awaiting signatures; `signed`: every party signed; `withdrawn`: "
        "taken back before every party signed.",
    )

    class Meta:
        model = AgreementVersion
        fields = [
            "number",
            "status",
            "effective_from",
            "valid_until",
            "summary",
            "proposed_at",
            "signed_at",
        ]
        read_only_fields = fields


class AgreementOutput(serializers.Serializer):
    id = serializers.UUIDField(source="agreement.id")
    title = serializers.CharField(source="agreement.title")
    status = choice_field(
        Agreement.Status,
        source="agreement.status",
        help_text="Only an `active` agreement allows anything; `suspended` allows nothing until "
        "it is resumed.",
    )
    status_reason = serializers.CharField(
        source="agreement.status_reason",
        help_text="Why it was suspended, terminated or expired; empty otherwise.",
    )
    host = serializers.CharField(source="agreement.host.slug", help_text="The host's slug.")
    version_in_force = serializers.IntegerField(
        allow_null=True,
        help_text="The version whose terms are in force today (Japan time). Null when the "
        "agreement is not active, when no signed version has taken effect, or when the version "
        "in force does not name your company.",
    )
    awaiting_your_signature = serializers.IntegerField(
        allow_null=True,
        help_text="The proposed version your company has not signed yet, if any: sign it with "
        "`POST …/versions/{number}/sign`.",
    )
    created_at = serializers.DateTimeField(source="agreement.created_at")


class AgreementDetailOutput(AgreementOutput):
    versions = AgreementVersionSummaryOutput(
        many=True,
        help_text="The versions naming your company that were proposed, oldest first. Drafts "
        "and versions between other parties are not shown.",
    )


class AgreementPartyOutput(serializers.ModelSerializer):
    slug = serializers.CharField(source="partner.slug")
    name_latin = serializers.CharField(source="partner.name_latin")
    contact_name = serializers.CharField(help_text="The party's contact for this agreement.")
    contact_email = serializers.CharField()
    signed_at = serializers.DateTimeField(allow_null=True, help_text="Null until it signs.")
    signed_by = serializers.CharField(
        help_text="Who signed for the party, and through what; empty until it signs."
    )

    class Meta:
        model = AgreementParty
        fields = ["slug", "name_latin", "contact_name", "contact_email", "signed_at", "signed_by"]


class AgreementVersionOutput(AgreementVersionSummaryOutput):
    agreement_id = serializers.UUIDField(read_only=True)
    terms = serializers.DictField(
        help_text="The terms document: `data_flows` (provider, recipient, purpose, fields, "
        "legal_basis and, for joint use, its notice), `coin`, `referral` and `overlap`."
    )
    parties = AgreementPartyOutput(many=True, help_text="Every company bound by this version.")

    class Meta(AgreementVersionSummaryOutput.Meta):
        fields = [
            "agreement_id",
            *AgreementVersionSummaryOutput.Meta.fields,
            "terms_sha256",
            "terms",
            "parties",
        ]
        read_only_fields = fields


class AgreementSignedVersionOutput(AgreementVersionOutput):
    parties = AgreementPartyOutput(
        many=True,
        required=False,
        help_text="Every company bound by this version. Absent from a response replayed for an "
        "Idempotency-Key: the contacts are kept encrypted, never in the replay store.",
    )


class AgreementDiffOutput(serializers.Serializer):
    class AgreementChangeOutput(serializers.Serializer):
        path = serializers.CharField(
            help_text="Where in the version: `effective_from`, `valid_until`, "
            "`parties.<slug>.contact`, or `terms.…` (data flows keyed "
            "`<provider>→<recipient>:<purpose>`)."
        )
        old = serializers.JSONField(allow_null=True, help_text="Null where it was absent.")
        new = serializers.JSONField(allow_null=True, help_text="Null where it is absent now.")

    results = AgreementChangeOutput(many=True)


# --- Endpoints -------------------------------------------------------------------------------


class AgreementListApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    class AgreementListFilters(df.FilterSet):
        status = df.ChoiceFilter(
            choices=Agreement.Status.choices, label="Only agreements in this status."
        )

    @list_schema(
        AgreementListFilters,
        AgreementOutput,
        operation_id="agreements_list",
        summary="List agreements",
        description="The agreements your company is or was a party to, newest first, each with "
        "the version in force today and the one awaiting signatures, if any.",
    )
    def get(self, request: Request) -> Response:
        agreements = agreement_list(principal=self.partner).prefetch_related(
            *_party_view_prefetches(self.partner)
        )
        today = timezone.localdate()
        return self.filtered_page(
            self.AgreementListFilters,
            agreements,
            AgreementOutput,
            present=lambda row: _party_view(row, today=today),
        )


class AgreementDetailApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        responses=AgreementDetailOutput,
        operation_id="agreements_retrieve",
        summary="Get an agreement",
        description="One agreement your company is a party to, with its versions; any other id "
        "is a 404.",
    )
    def get(self, request: Request, agreement_id: str) -> Response:
        agreement = access_agreement_by_id(self.partner, agreement_id)
        prefetch_related_objects([agreement], *_party_view_prefetches(self.partner))
        view = _party_view(agreement, today=timezone.localdate())
        return Response(AgreementDetailOutput(view).data)


class AgreementVersionDetailApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        responses=AgreementVersionOutput,
        operation_id="agreement_versions_retrieve",
        summary="Get an agreement version",
        description="The whole version: its terms, dates and parties with their contacts and "
        "signatures. Only versions naming your company, once proposed; a draft answers 404 "
        "like a missing number.",
    )
    def get(self, request: Request, agreement_id: str, number: str) -> Response:
        version = access_version_by_number(self.partner, agreement_id, number)
        return Response(AgreementVersionOutput(version).data)


class AgreementVersionSignApi(FederationEndpoint):
    """Your company's signature of a proposed version. The last party's signature makes the
    version signed; it is in force from its date while the agreement is active."""

    required_scopes = {"POST": ADMIN}
    # The parties' contacts are encrypted at rest; the replay store is not.
    idempotency_redact = ("parties",)

    class AgreementSignInput(StrictInputSerializer):
        signed_by = serializers.CharField(
            max_length=120,
            help_text="The name and title of the person signing for your company, e.g. "
            "`山田 太郎 (代表取締役)`.",
        )

    @extend_schema(
        request=AgreementSignInput,
        responses=AgreementSignedVersionOutput,
        operation_id="agreement_versions_sign",
        summary="Sign an agreement version",
        description="Your company's signature of a proposed version, recording the API key it "
        "came through. The last party's signature makes the version signed; it is in force "
        "from its date while the agreement is active. Signing a version your company already "
        "signed changes nothing and answers 200; a version no longer awaiting signatures "
        "(withdrawn, "
        "or the agreement ended) is 409 `conflict`. Every party is told by the webhooks "
        "`agreement.signed` and, once all have signed, `agreement.version_signed`.",
        examples=[
            OpenApiExample(
                "Signed by the representative director",
                value={"signed_by": "山田 太郎 (代表取締役)"},
                request_only=True,
            )
        ],
    )
    @raises(ErrorCode.CONFLICT)
    def post(self, request: Request, agreement_id: str, number: str) -> Response:
        version = access_version_by_number(self.partner, agreement_id, number)
        values = self.validated(self.AgreementSignInput)
        version_sign(
            version=version, partner=self.partner, signed_by=values["signed_by"], actor=self.actor
        )
        signed = access_version_by_number(self.partner, agreement_id, number)
        return Response(AgreementSignedVersionOutput(signed).data)


class AgreementVersionDiffApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    class AgreementDiffFilters(serializers.Serializer):
        against = serializers.IntegerField(
            min_value=1, help_text="The number of the version to compare with."
        )

    @extend_schema(
        parameters=[AgreementDiffFilters],
        responses=AgreementDiffOutput,
        operation_id="agreement_versions_diff",
        summary="Compare agreement versions",
        description="What changed from version `against` to this one: dates, parties and their "
        "contacts, and every term, one leaf per change. Both versions must be ones you can read.",
    )
    def get(self, request: Request, agreement_id: str, number: str) -> Response:
        new = access_version_by_number(self.partner, agreement_id, number)
        filters = self.AgreementDiffFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        old = access_version_by_number(
            self.partner, agreement_id, str(filters.validated_data["against"])
        )
        changes = [{"path": p, "old": o, "new": n} for p, o, n in version_diff(old, new)]
        return Response(AgreementDiffOutput({"results": changes}).data)
