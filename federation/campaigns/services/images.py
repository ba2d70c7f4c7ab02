"""The product's images: uploaded by the partner while the campaign is a draft (the host
reviews them with the proposal), at most ``MAX_IMAGES``, each a JPEG, PNG or WebP of at most
``MAX_BYTES`` and ``MAX_SIDE`` pixels a side. The type is decided by Pillow reading the bytes
(the declared type must agree), never by the name or the declaration alone; anything Pillow
cannot open fully is refused. Stored in the database and served by Sanpo's own API."""

from __future__ import annotations

import hashlib
import io
import warnings

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from federation.campaigns.audit import CampaignAuditAction
from federation.campaigns.errors import CampaignErrorCode
from federation.campaigns.models import Campaign, CampaignImage
from federation.campaigns.services.common import record, require_state
from partners.actors import Actor
from partners.errors import ApplicationError, validation_failed

MAX_IMAGES = 4
# The API carries the bytes as base64 in JSON, under the 1 MiB body cap (SANPO_MAX_BODY_BYTES).
MAX_BYTES = 700 * 1024
MAX_SIDE = 4096
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def sniffed_type(data: bytes) -> tuple[str, int, int]:
    """The content type the bytes are, and the image's size; raises validation_failed for
    anything but a whole JPEG, PNG or WebP within ``MAX_SIDE``."""
    refused = validation_failed("content", _("A JPEG, PNG or WebP image."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind, (width, height) = image.format, image.size
                image.verify()  # reads it through: a truncated or forged file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Warning):
        raise refused from None
    if kind not in FORMATS:
        raise refused
    if width > MAX_SIDE or height > MAX_SIDE:
        raise validation_failed(
            "content", _("At most %(side)s pixels a side.") % {"side": MAX_SIDE}
        )
    return FORMATS[kind], width, height


def campaign_image_add(
    *, campaign: Campaign, data: bytes, content_type: str, actor: Actor
) -> CampaignImage:
    """Add an image to a draft campaign, after the others. Raises ApplicationError:
    validation_failed (too large, not an image of the three types, or not the declared type),
    too_many_images, campaign_state."""
    if len(data) > MAX_BYTES:
        raise validation_failed(
            "content", _("At most %(kb)s KB an image.") % {"kb": MAX_BYTES // 1024}
        )
    sniffed, width, height = sniffed_type(data)
    if sniffed != content_type:
        raise validation_failed(
            "content_type",
            _("The image is %(sniffed)s, not %(declared)s.")
            % {"sniffed": sniffed, "declared": content_type},
        )
    try:
        with transaction.atomic():
            campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
            require_state(campaign, Campaign.State.DRAFT)
            count = campaign.images.count()
            if count >= MAX_IMAGES:
                raise ApplicationError(
                    CampaignErrorCode.TOO_MANY_IMAGES,
                    _("At most %(most)s images a campaign.") % {"most": MAX_IMAGES},
                )
            image = CampaignImage.objects.create(
                campaign=campaign,
                position=count + 1,
                content_type=sniffed,
                content=data,
                size=len(data),
                width=width,
                height=height,
                sha256=hashlib.sha256(data).hexdigest(),
            )
            record(
                CampaignAuditAction.IMAGE_ADDED,
                campaign,
                actor,
                position=image.position,
                sha256=image.sha256,
            )
    except IntegrityError:  # a race for the same position: the lock makes it unlikely
        raise ApplicationError(CampaignErrorCode.TOO_MANY_IMAGES) from None
    return image
