"""A campaign's product images: uploaded by the partner while drafting, their type read from
their bytes, at most four of at most 700 KB, served by Sanpo to the partner and the host only.
Bad input is a clear 4xx with nothing written."""

from __future__ import annotations

import base64
import io
import uuid
from typing import Any

import pytest
from PIL import Image

from federation.campaigns.models import Campaign, CampaignImage
from federation.models import Agreement
from partners.models import AuditEvent, Partner
from tests.conftest import Key, client_for
from tests.federation.test_campaigns import draft, make_sampling, shoppers

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("small_cell_floor", "exact_overlap_counts"),
]


@pytest.fixture
def sampling(host: Partner, partner: Partner) -> Agreement:
    return make_sampling(host, partner)


def picture(kind: str = "PNG", size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, format=kind)
    return buffer.getvalue()


def _upload(key: Key, campaign: Campaign, content: bytes | str, content_type: str) -> Any:
    encoded = content if isinstance(content, str) else base64.b64encode(content).decode()
    return client_for(key).post(
        f"/api/v1/campaigns/{campaign.pk}/images",
        {"content_type": content_type, "content": encoded},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )


@pytest.mark.parametrize(
    ("kind", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")],
)
def test_the_partner_uploads_and_both_parties_read_it_from_sanpo(
    sampling: Agreement,
    host: Partner,
    partner: Partner,
    partner_key: Key,
    host_key: Key,
    outsider_key: Key,
    kind: str,
    content_type: str,
) -> None:
    campaign = draft(host, partner)
    data = picture(kind)

    answer = _upload(partner_key, campaign, data, content_type)

    assert answer.status_code == 201, answer.content
    assert answer.json() | {"sha256": "…"} == {
        "position": 1,
        "content_type": content_type,
        "size": len(data),
        "width": 40,
        "height": 30,
        "sha256": "…",
    }
    assert AuditEvent.objects.filter(action="campaigns.image_added").count() == 1
    for key in (partner_key, host_key):
        served = client_for(key).get(f"/api/v1/campaigns/{campaign.pk}/images/1")
        assert served.status_code == 200
        assert served["Content-Type"] == content_type
        assert served["X-Content-Type-Options"] == "nosniff"
        assert served.content == data
    stranger = client_for(outsider_key).get(f"/api/v1/campaigns/{campaign.pk}/images/1")
    missing = client_for(partner_key).get(f"/api/v1/campaigns/{campaign.pk}/images/2")
    assert (stranger.status_code, missing.status_code) == (404, 404)


def _gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (10, 10)).save(buffer, format="GIF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "content_type", "field"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (700 * 1024), "image/png", "content"),  # too big
        (_gif(), "image/png", "content"),  # a GIF: not one of the three
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png", "content"),
        (picture("PNG")[:60], "image/png", "content"),  # cut short
        (picture("JPEG"), "image/png", "content_type"),  # declared as what it is not
        ("not base64!", "image/png", "content"),
        (picture("PNG"), "image/gif", "content_type"),  # a type the API does not take
        (picture("PNG", (4097, 1)), "image/png", "content"),  # too wide
    ],
)
def test_bad_images_are_refused_with_nothing_written(
    sampling: Agreement,
    host: Partner,
    partner: Partner,
    partner_key: Key,
    content: bytes | str,
    content_type: str,
    field: str,
) -> None:
    campaign = draft(host, partner)

    answer = _upload(partner_key, campaign, content, content_type)

    assert answer.status_code == 400, answer.content
    assert answer.json()["error"]["code"] == "validation_failed"
    assert field in answer.json()["error"]["fields"]
    assert not CampaignImage.objects.exists()
    assert not AuditEvent.objects.filter(action="campaigns.image_added").exists()


def test_at_most_four_images_and_only_while_drafting(
    sampling: Agreement, host: Partner, partner: Partner, partner_key: Key, host_key: Key
) -> None:
    shoppers(host, 10)
    campaign = draft(host, partner)
    for _n in range(4):
        assert _upload(partner_key, campaign, picture(), "image/png").status_code == 201

    fifth = _upload(partner_key, campaign, picture(), "image/png")
    assert fifth.status_code == 422
    assert fifth.json()["error"]["code"] == "too_many_images"
    # The host cannot add to the partner's campaign: its door is not this one.
    assert _upload(host_key, campaign, picture(), "image/png").status_code == 404
    assert CampaignImage.objects.count() == 4

    other = draft(host, partner, category="drinks")
    Campaign.objects.filter(pk=other.pk).update(state=Campaign.State.PROPOSED)
    late = _upload(partner_key, other, picture(), "image/png")
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "campaign_state"
    assert not CampaignImage.objects.filter(campaign=other).exists()
