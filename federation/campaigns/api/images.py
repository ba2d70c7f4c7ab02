"""The product's images: the partner uploads them while drafting (base64 in JSON, like every
body of the API), and either party of the campaign reads them back from Sanpo, with the type
their bytes showed; anyone else gets 404, like a missing campaign."""

from __future__ import annotations

import base64
import binascii
from typing import ClassVar

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from federation.campaigns.access import access_campaign_by_id
from federation.campaigns.errors import CampaignErrorCode
from federation.campaigns.models import CampaignImage
from federation.campaigns.services import MAX_BYTES, MAX_IMAGES, campaign_image_add
from federation.kernel.api import READ, WRITE, FederationEndpoint
from partners.api.base import StrictInputSerializer
from partners.api.schema import raises
from partners.errors import not_found, validation_failed

TYPES = ["image/jpeg", "image/png", "image/webp"]
# A 1x1 transparent PNG: the schema's example, and the permission matrix's upload.
PIXEL_PNG = "".join(
    [
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJ",
        "RU5ErkJggg==",
    ]
)


class ImageInput(StrictInputSerializer):
    content_type = serializers.ChoiceField(choices=TYPES, help_text="What the bytes are.")
    content = serializers.CharField(
        max_length=(MAX_BYTES + 2) // 3 * 4,
        help_text=f"The image, base64: a JPEG, PNG or WebP of at most {MAX_BYTES // 1024} KB "
        "and 4096 pixels a side.",
    )


class ImageOutput(serializers.Serializer):
    position = serializers.IntegerField(help_text="Its number, from 1, in the image's URL.")
    content_type = serializers.CharField(help_text="The type its bytes showed.")
    size = serializers.IntegerField(help_text="Bytes.")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    sha256 = serializers.CharField()


class CampaignImagesApi(FederationEndpoint):
    required_scopes: ClassVar[dict[str, str]] = {"POST": WRITE}
    idempotency_required = True

    @extend_schema(
        request=ImageInput,
        examples=[
            OpenApiExample(
                "A product photo",
                value={"content_type": "image/png", "content": PIXEL_PNG},
                request_only=True,
            )
        ],
        responses={201: ImageOutput},
        operation_id="campaigns_image_add",
        summary="Add a product image",
        description=f"Adds an image to your draft, after the others (at most {MAX_IMAGES}: "
        "422 `too_many_images` beyond), for the host's review and its members' portal. Its "
        "type is read from its bytes: 400 `validation_failed` for anything but a whole JPEG, "
        f"PNG or WebP, one over {MAX_BYTES // 1024} KB or 4096 pixels a side, or one whose "
        "bytes are not the declared type. 409 `campaign_state` unless a draft. An "
        "`Idempotency-Key` is required: a retry replays the first answer.",
    )
    @raises(CampaignErrorCode.TOO_MANY_IMAGES, CampaignErrorCode.CAMPAIGN_STATE)
    def post(self, request: Request, campaign_id: str) -> Response:
        campaign = access_campaign_by_id(self.partner, campaign_id, role="partner")
        values = self.validated(ImageInput)
        try:
            data = base64.b64decode(values["content"], validate=True)
        except (binascii.Error, ValueError):
            raise validation_failed("content", _("The image as base64.")) from None
        image = campaign_image_add(
            campaign=campaign, data=data, content_type=values["content_type"], actor=self.actor
        )
        return Response(ImageOutput(image).data, status=status.HTTP_201_CREATED)


class CampaignImageApi(FederationEndpoint):
    required_scopes: ClassVar[dict[str, str]] = {"GET": READ}

    @extend_schema(
        responses={
            (200, media): OpenApiResponse(OpenApiTypes.BINARY, description="The image.")
            for media in TYPES
        },
        operation_id="campaigns_image_read",
        summary="Read a product image",
        description="The image's bytes, with the type they showed when uploaded; for the "
        "partner that proposed the campaign and the host. Anyone else, or a position with no "
        "image, gets 404.",
    )
    def get(self, request: Request, campaign_id: str, position: str) -> HttpResponse:
        campaign = access_campaign_by_id(self.partner, campaign_id)
        image = (
            CampaignImage.objects.filter(campaign=campaign, position=int(position)).first()
            if position.isascii() and position.isdigit() and len(position) < 4
            else None
        )
        if image is None:
            raise not_found(_("image"))
        response = HttpResponse(bytes(image.content), content_type=image.content_type)
        response["Content-Length"] = str(image.size)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, max-age=3600"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response
