"""Campaigns end to end through the API: the brand drafts, counts its reach and proposes; the
host approves (the draw) or rejects; the brand takes the shipment list; the host's portal
sends answers that earn coins; the brand reads aggregates. And the bad input and abuse, each a
clear 4xx with nothing written and nothing leaked."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from consent.models import ProvisionRecord
from federation.campaigns.models import Campaign, CampaignMember, SurveyAnswer
from federation.campaigns.services import campaign_survey_open
from federation.coins.models import CoinTransaction
from federation.models import Agreement
from partners.actors import Actor
from partners.models import Partner
from tests.conftest import Key, client_for
from tests.federation.test_campaigns import ANSWERS, QUESTIONS, make_sampling, shopper, shoppers

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("small_cell_floor", "exact_overlap_counts", "sampling"),
]


@pytest.fixture
def sampling(host: Partner, partner: Partner) -> Agreement:
    return make_sampling(host, partner)


BODY: dict[str, Any] = {
    "name_ja": "プロテインバー",
    "name_en": "Protein bar",
    "description_ja": "新しい味です。",
    "description_en": "A new flavour.",
    "category": "snacks",
    "quantity": 10,
    "segment": {"prefectures": ["13"], "age_bands": ["30-39"]},
    "starts_on": "2026-12-01",
    "ends_on": "2027-01-31",
    "selection": "direct",
    "coins_per_answer": 30,
    "questions": QUESTIONS,
}


def _post(key: Key | APIClient, path: str, body: Any = None, *, keyed: bool = True) -> Any:
    client = key if isinstance(key, APIClient) else client_for(key)
    headers: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())} if keyed else {}
    return client.post(f"/api/v1/campaigns{path}", body or {}, format="json", **headers)


def _get(key: Key, path: str) -> Any:
    return client_for(key).get(f"/api/v1/campaigns{path}")


def test_a_campaign_from_proposal_to_results(
    host: Partner, partner: Partner, partner_key: Key, host_key: Key
) -> None:
    members = shoppers(host, 10)

    created = _post(partner_key, "", BODY)
    assert created.status_code == 201, created.content
    campaign_id = created.json()["id"]
    assert created.json()["state"] == "draft"
    reach = _get(partner_key, f"/{campaign_id}/reach")
    assert reach.json() == {"count": 10, "min_cell": 10}
    assert _post(partner_key, f"/{campaign_id}/propose").json()["state"] == "proposed"

    approved = _post(host_key, f"/{campaign_id}/approve")
    assert approved.status_code == 200, approved.content
    assert approved.json()["state"] == "selecting"
    assert approved.json()["selected"] == 10

    shipment = _post(partner_key, f"/{campaign_id}/shipment")
    assert shipment.status_code == 201, shipment.content
    rows = shipment.json()["results"]
    assert len(rows) == 10
    assert set(rows[0]) == {"member", "name", "postal_code", "address", "phone"}
    assert ProvisionRecord.objects.filter(purpose_id="sampling_shipment").count() == 10

    campaign_survey_open(campaign=Campaign.objects.get(pk=campaign_id), actor=Actor.system())
    for member in members:
        body = {"member_number": member.member_number, "answers": ANSWERS}
        answered = _post(host_key, f"/{campaign_id}/answers", body)
        assert answered.status_code == 201, answered.content
        assert answered.json()["coins"] == 30
    assert CoinTransaction.objects.filter(kind="earn_action", partner=partner).count() == 10

    results = _get(partner_key, f"/{campaign_id}/results")
    assert results.status_code == 200, results.content
    body = results.json()
    assert body["respondents"] == 10
    assert body["questions"][0]["cells"][3] == {"value": "4", "count": 10}
    assert body["questions"][3]["texts"] == ["美味しかった"] * 10
    assert "H-000" not in results.content.decode()


def test_the_host_rejects_with_a_reason(
    host: Partner, partner: Partner, partner_key: Key, host_key: Key
) -> None:
    shoppers(host, 10)
    campaign_id = _post(partner_key, "", BODY).json()["id"]
    _post(partner_key, f"/{campaign_id}/propose")

    refused = _post(host_key, f"/{campaign_id}/reject", {"reason": ""})
    rejected = _post(host_key, f"/{campaign_id}/reject", {"reason": "Not for our members"})

    assert refused.status_code == 400
    assert rejected.json()["state"] == "rejected"
    assert _get(partner_key, f"/{campaign_id}").json()["reject_reason"] == "Not for our members"


def test_a_partner_cannot_approve_its_own_campaign_nor_read_anothers(
    host: Partner, partner: Partner, partner_key: Key, outsider_key: Key
) -> None:
    shoppers(host, 10)
    campaign_id = _post(partner_key, "", BODY).json()["id"]
    _post(partner_key, f"/{campaign_id}/propose")

    own = _post(partner_key, f"/{campaign_id}/approve")
    missing = _post(partner_key, f"/{uuid.uuid4()}/approve")

    assert own.status_code == 404
    assert own.content == missing.content
    for path in ("", "/reach", "/results"):
        assert _get(outsider_key, f"/{campaign_id}{path}").status_code == 404
    assert Campaign.objects.get(pk=campaign_id).state == "proposed"
    assert not CampaignMember.objects.exists()


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"segment": {"prefectures": ["13"], "kinds": ["alien"]}}, 400, "validation_failed"),
        ({"questions": []}, 400, "validation_failed"),
        ({"quantity": 0}, 400, "validation_failed"),
        ({"selection": "lottery"}, 400, "validation_failed"),
        ({"ends_on": "2026-01-01"}, 400, "validation_failed"),
        ({"surprise": True}, 400, "validation_failed"),
    ],
)
def test_bad_proposals_are_refused_with_nothing_written(
    partner_key: Key, changes: dict[str, Any], status: int, code: str
) -> None:
    response = _post(partner_key, "", {**BODY, **changes})

    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert not Campaign.objects.exists()


def test_writes_need_an_idempotency_key(partner_key: Key) -> None:
    response = _post(partner_key, "", BODY, keyed=False)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_required"
    assert not Campaign.objects.exists()


def test_a_segment_that_would_single_out_members_cannot_be_proposed(
    host: Partner, partner_key: Key
) -> None:
    shoppers(host, 3)
    campaign_id = _post(partner_key, "", BODY).json()["id"]

    reach = _get(partner_key, f"/{campaign_id}/reach")
    proposed = _post(partner_key, f"/{campaign_id}/propose")

    assert reach.json()["count"] is None
    assert proposed.status_code == 422
    assert proposed.json()["error"]["code"] == "segment_too_narrow"
    assert Campaign.objects.get(pk=campaign_id).state == "draft"


def test_answers_are_refused_for_strangers_twice_and_bad_values(
    host: Partner, partner: Partner, partner_key: Key, host_key: Key
) -> None:
    members = shoppers(host, 10)
    campaign_id = _post(partner_key, "", BODY).json()["id"]
    _post(partner_key, f"/{campaign_id}/propose")
    _post(host_key, f"/{campaign_id}/approve")
    _post(partner_key, f"/{campaign_id}/shipment")
    campaign_survey_open(campaign=Campaign.objects.get(pk=campaign_id), actor=Actor.system())
    late = shopper(host, "H-late")
    first = {"member_number": members[0].member_number, "answers": ANSWERS}
    assert _post(host_key, f"/{campaign_id}/answers", first).status_code == 201

    cases = [
        (first, 409, "already_answered"),
        ({"member_number": late.member_number, "answers": ANSWERS}, 422, "not_in_campaign"),
        ({"member_number": "NOBODY", "answers": ANSWERS}, 404, "not_found"),
        ({"member_number": members[1].member_number, "answers": {"1": 9}}, 400, None),
        ({"member_number": members[1].member_number}, 400, "validation_failed"),
    ]
    for body, status, code in cases:
        response = _post(host_key, f"/{campaign_id}/answers", body)
        assert response.status_code == status, (body, response.content)
        if code:
            assert response.json()["error"]["code"] == code
    assert SurveyAnswer.objects.count() == 1
    # The brand cannot answer for the host's members.
    assert _post(partner_key, f"/{campaign_id}/answers", first).status_code == 404


def test_results_before_the_survey_are_a_conflict(
    host: Partner, partner_key: Key, sampling: Agreement
) -> None:
    campaign_id = _post(partner_key, "", BODY).json()["id"]

    response = _get(partner_key, f"/{campaign_id}/results")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "campaign_state"


def test_the_list_takes_the_same_queries_for_one_campaign_or_many(
    partner_key: Key, host_key: Key
) -> None:
    _post(partner_key, "", BODY)
    client = client_for(partner_key)
    with CaptureQueriesContext(connection) as one:
        first = client.get("/api/v1/campaigns")
    for _ in range(3):
        _post(partner_key, "", BODY)
    with CaptureQueriesContext(connection) as four:
        page = client.get("/api/v1/campaigns")

    assert len(first.json()["results"]) == 1
    assert len(page.json()["results"]) == 4
    assert len(four.captured_queries) == len(one.captured_queries)
    # The host sees the campaigns for its members too.
    assert len(client_for(host_key).get("/api/v1/campaigns").json()["results"]) == 4


def test_invited_members_ship_only_once_they_confirm(
    host: Partner, partner: Partner, partner_key: Key, host_key: Key
) -> None:
    members = shoppers(host, 10)
    campaign_id = _post(partner_key, "", {**BODY, "selection": "invite"}).json()["id"]
    _post(partner_key, f"/{campaign_id}/propose")
    _post(host_key, f"/{campaign_id}/approve")
    assert set(CampaignMember.objects.values_list("status", flat=True)) == {"invited"}

    confirmed = _post(host_key, f"/{campaign_id}/confirmations", {"member_number": "H-001"})
    again = _post(host_key, f"/{campaign_id}/confirmations", {"member_number": "H-001"})
    stranger = shopper(host, "H-late")
    refused = _post(host_key, f"/{campaign_id}/confirmations", {"member_number": "H-late"})
    rows = _post(partner_key, f"/{campaign_id}/shipment").json()["results"]

    assert confirmed.status_code == 204
    assert again.status_code == 204
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "not_in_campaign"
    assert len(rows) == 1
    assert rows[0]["name"] == "山田 太郎"
    drawn = CampaignMember.objects.get(member=members[1])
    assert drawn.status == "confirmed"
    assert drawn.exported_at is not None
    assert not CampaignMember.objects.filter(member=stranger).exists()


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("breakdown=town", "validation_failed"),
        ("breakdown=age_band&breakdown=kind", "disclosure_refused"),
        ("breakdown=kind&prefecture=13", "disclosure_refused"),
    ],
)
def test_results_per_cell_refuse_filters_and_unknown_breakdowns(
    host: Partner, partner: Partner, partner_key: Key, query: str, code: str
) -> None:
    from tests.federation.test_campaigns import surveying

    shoppers(host, 10)
    campaign = surveying(host, partner, quantity=10)

    answer = client_for(partner_key).get(f"/api/v1/campaigns/{campaign.pk}/results?{query}")

    assert answer.status_code == 400, answer.content
    assert answer.json()["error"]["code"] == code


def test_results_per_kind_cell_through_the_api(
    host: Partner, partner: Partner, partner_key: Key
) -> None:
    from federation.campaigns.services import campaign_answer
    from tests.federation.test_campaigns import surveying

    members = shoppers(host, 10) + shoppers(host, 10, start=50, kind="business")
    campaign = surveying(host, partner, quantity=20, segment={"prefectures": ["13"]})
    for member in members:
        campaign_answer(campaign=campaign, member=member, answers=ANSWERS, actor=Actor.system())

    answer = client_for(partner_key).get(f"/api/v1/campaigns/{campaign.pk}/results?breakdown=kind")

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["breakdown"] == "kind"
    cells = {cell["segment"]: cell for cell in body["segments"]}
    assert cells["household"]["respondents"] == 10
    assert cells["business"]["respondents"] == 10
    assert cells["business"]["questions"][0]["cells"][3] == {"value": "4", "count": 10}
    # Free text only for the whole, never per cell.
    assert body["questions"][3]["texts"] is not None
    assert cells["business"]["questions"][3]["texts"] is None
