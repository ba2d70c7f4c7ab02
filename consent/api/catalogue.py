"""The purpose catalogue and the notice in force."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from consent.api.fields import (
    READ,
)
from consent.api.outputs import (
    NoticeOutput,
    PurposeOutput,
)
from consent.models import (
    PrivacyNotice,
    Purpose,
)
from partners.api.base import PartnerEndpoint


class PurposeListOutput(serializers.Serializer):
    results = PurposeOutput(many=True)


class PurposeListApi(PartnerEndpoint):
    """The purposes a member can consent to."""

    required_scopes = {"GET": READ}

    @extend_schema(
        responses=PurposeListOutput,
        operation_id="consent_purposes_list",
        summary="List purposes",
        description="The purpose catalogue, by code: what a member can consent to. Codes are "
        "stable; names and descriptions come in Japanese and English.",
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
        summary="Get the privacy notices in force",
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
