"""Campaigns in the alliance console: the list and its review queue, the review page that
approves (drawing the members) or rejects with a reason through the services, the results
page with the response rate and the distributions, and their CSV; in Japanese too."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from federation.campaigns.models import Campaign
from federation.campaigns.services import campaign_answer, campaign_propose
from federation.models import Agreement
from partners.actors import Actor
from partners.models import AuditEvent, Partner
from tests.federation.test_campaigns import ANSWERS, draft, make_sampling, shoppers, surveying

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("small_cell_floor", "exact_overlap_counts", "sampling"),
]
BASE = "/admin/federation/campaign/"


@pytest.fixture
def sampling(host: Partner, partner: Partner) -> Agreement:
    return make_sampling(host, partner)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _proposed(host: Partner, partner: Partner) -> Campaign:
    shoppers(host, 10)
    return campaign_propose(campaign=draft(host, partner), actor=Actor.system())


def test_the_review_queue_and_pages_answer_a_manager_and_nobody_else(
    host: Partner, partner: Partner, alliance_manager: User, partner_admin: User
) -> None:
    campaign = _proposed(host, partner)
    pages = [
        f"{BASE}?state=proposed",
        f"{BASE}{campaign.pk}/change/",
        f"{BASE}{campaign.pk}/review/",
        f"{BASE}{campaign.pk}/results/",
        f"{BASE}export-csv/",
    ]
    manager = _client(alliance_manager)
    for page in pages:
        assert manager.get(page).status_code == 200, page
    queue = manager.get(f"{BASE}?state=proposed").content.decode()
    assert "Protein bar" in queue
    review = manager.get(f"{BASE}{campaign.pk}/review/").content.decode()
    assert 'id="campaign-reach">The segment reaches 10 consenting members now.' in review
    assert "How satisfied?" in review
    for page in pages:
        assert _client(partner_admin).get(page).status_code in (302, 403), page


def test_the_host_approves_in_the_console_and_the_members_are_drawn(
    host: Partner, partner: Partner, alliance_manager: User
) -> None:
    campaign = _proposed(host, partner)

    response = _client(alliance_manager).post(f"{BASE}{campaign.pk}/review/", {"approve": "1"})

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.SELECTING
    assert campaign.selected == 10
    assert AuditEvent.objects.get(action="campaigns.approved").actor_label == "user alice-manager"


def test_rejecting_needs_a_reason(host: Partner, partner: Partner, alliance_manager: User) -> None:
    campaign = _proposed(host, partner)
    manager = _client(alliance_manager)

    blank = manager.post(f"{BASE}{campaign.pk}/review/", {"reject": "1", "reason": ""})
    campaign.refresh_from_db()
    assert blank.status_code == 200
    assert campaign.state == Campaign.State.PROPOSED

    manager.post(f"{BASE}{campaign.pk}/review/", {"reject": "1", "reason": "Not our style"})
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.REJECTED
    assert campaign.reject_reason == "Not our style"


def test_the_results_page_shows_the_response_rate_and_exports_the_distribution(
    host: Partner, partner: Partner, alliance_manager: User
) -> None:
    members = shoppers(host, 10)
    campaign = surveying(host, partner, quantity=10)
    for member in members[:4]:
        campaign_answer(campaign=campaign, member=member, answers=ANSWERS, actor=Actor.system())
    manager = _client(alliance_manager)

    page = manager.get(f"{BASE}{campaign.pk}/results/").content.decode()
    csv = b"".join(manager.get(f"{BASE}{campaign.pk}/results/?format=csv").streaming_content)  # type: ignore[attr-defined]

    assert "response rate: 40%" in page
    assert "1,4,4" in csv.decode("utf-8-sig")
    # A bar chart per rating or choice question, drawn on the server, with its figures.
    charts = page.split('id="campaign-charts"')[1].split("</div>\n")[0]
    assert charts.count("sanpo-chart'>") == 3
    for label in ("What was good", "Taste", "★★★★"):
        assert label in charts
    by_age = manager.get(f"{BASE}{campaign.pk}/results/?breakdown=age_band").content.decode()
    cells = by_age.split('id="campaign-cells"')[1].split("</table>")[0]
    assert "<td>30-39</td><td>4</td>" in cells
    japanese = manager.get(f"{BASE}{campaign.pk}/results/", HTTP_ACCEPT_LANGUAGE="ja")
    assert "回答率" in japanese.content.decode()


def test_the_survey_opens_and_closes_through_the_list_actions(
    host: Partner, partner: Partner, alliance_manager: User
) -> None:
    shoppers(host, 10)
    campaign = surveying(host, partner, quantity=10)

    _client(alliance_manager).post(BASE, {"action": "close", "_selected_action": [campaign.pk]})

    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.CLOSED


def test_the_review_page_shows_the_product_images_served_by_sanpo(
    host: Partner, partner: Partner, alliance_manager: User
) -> None:
    import base64

    from federation.campaigns.api.images import PIXEL_PNG
    from federation.campaigns.services import campaign_image_add

    campaign = draft(host, partner)
    data = base64.b64decode(PIXEL_PNG)
    campaign_image_add(campaign=campaign, data=data, content_type="image/png", actor=Actor.system())
    manager = _client(alliance_manager)

    page = manager.get(f"{BASE}{campaign.pk}/review/").content.decode()
    image = manager.get(f"{BASE}{campaign.pk}/review/images/1/")

    assert 'src="images/1/"' in page
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert image.content == data
    assert manager.get(f"{BASE}{campaign.pk}/review/images/2/").status_code == 404
    assert Client().get(f"{BASE}{campaign.pk}/review/images/1/").status_code == 302
