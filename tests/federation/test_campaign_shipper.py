"""Who ships a campaign, as the agreement's ``sampling`` terms say: the partner (the default,
a provision record per member) or the host's delivery staff (by member number, nothing
provided to the partner). The other company is refused with nothing written."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from consent.models import ProvisionRecord
from federation.agreements.terms import TermsError, terms_clean
from federation.campaigns.models import Campaign, CampaignMember
from federation.campaigns.registrations import WEBHOOK_EVENTS
from partners.models import AuditEvent, Partner, WebhookEndpoint
from tests.conftest import Key, client_for
from tests.factories import make_agreement, make_notice
from tests.federation.test_campaigns import SHIP, approved, campaign_terms, shoppers

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("small_cell_floor", "exact_overlap_counts"),
]


def _sampling(host: Partner, partner: Partner, host_ships: bool | None) -> None:
    make_notice(
        purposes=["sampling_shipment", "research_survey"],
        recipients=[partner],
        data_items=[*SHIP, "age_band", "kind"],
    )
    WebhookEndpoint.objects.create(
        partner=partner, url="https://hooks.brand.example/sanpo", events=list(WEBHOOK_EVENTS)
    )
    terms = campaign_terms(host, partner)
    if host_ships is not None:
        terms["sampling"] = {"host_ships": host_ships}
    make_agreement(host, partner, terms=terms)


def _export(key: Key, campaign: Campaign) -> Any:
    return client_for(key).post(
        f"/api/v1/campaigns/{campaign.pk}/shipment",
        {},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )


def test_the_hosts_delivery_staff_take_the_list_and_nothing_is_provided(
    host: Partner, partner: Partner, host_key: Key, partner_key: Key
) -> None:
    _sampling(host, partner, True)
    shoppers(host, 10)
    campaign = approved(host, partner, quantity=10)

    refused = _export(partner_key, campaign)
    assert refused.status_code == 403, refused.content
    assert refused.json()["error"]["code"] == "not_the_shipper"
    assert not CampaignMember.objects.exclude(exported_at=None).exists()

    answer = _export(host_key, campaign)

    assert answer.status_code == 201, answer.content
    rows = answer.json()["results"]
    assert len(rows) == 10
    assert {row["member"] for row in rows} == {f"H-{n:03d}" for n in range(10)}
    assert rows[0]["address"] == "東京都渋谷区神宮前1-1-1"
    assert not ProvisionRecord.objects.exists()
    event = AuditEvent.objects.get(action="campaigns.shipment_exported")
    assert event.detail["shipper"] == "host"
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.SHIPPING


def test_by_default_the_partner_ships_and_the_host_is_refused(
    host: Partner, partner: Partner, host_key: Key, partner_key: Key
) -> None:
    _sampling(host, partner, None)
    shoppers(host, 10)
    campaign = approved(host, partner, quantity=10)

    refused = _export(host_key, campaign)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_the_shipper"
    assert not ProvisionRecord.objects.exists()

    answer = _export(partner_key, campaign)
    assert answer.status_code == 201
    assert all(row["member"].startswith("mp_") for row in answer.json()["results"])
    assert ProvisionRecord.objects.count() == 10


@pytest.mark.parametrize("raw", [{"host_ships": "yes"}, {"shipper": "host"}, "host"])
def test_the_sampling_terms_say_whether_the_host_ships(raw: Any) -> None:
    terms = {
        "data_flows": [
            {
                "provider": "host-co",
                "recipient": "brand-co",
                "purpose": "sampling_shipment",
                "fields": ["name"],
            }
        ],
        "sampling": raw,
    }
    with pytest.raises(TermsError):
        terms_clean(terms, parties=["host-co", "brand-co"], purposes=["sampling_shipment"])
