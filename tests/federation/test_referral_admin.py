"""Referrals in the alliance console: pages for managers alone, the review queue where a
flagged conversion is approved or rejected with a reason (audited), and CSV exports."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from federation.models import Agreement
from federation.referrals.models import ReferralConversion, ReferralFee, ReferralOffer
from partners.models import AuditEvent, Partner
from tests.federation.referral_world import (
    campaign_link,
    click,
    consenting_member,
    host_offer,
    referral_agreement,
    report,
)

pytestmark = pytest.mark.django_db
BASE = "/admin/federation/"
REVIEW = f"{BASE}referralconversion/review/"


@pytest.fixture
def flagged(host: Partner, partner: Partner) -> list[ReferralConversion]:
    """One counted conversion and two flagged duplicates of the same member's sale."""
    referral_agreement(host, partner)
    member = consenting_member(partner, "B-1", host)
    link = campaign_link(host_offer(host, partner))
    click(link)
    report(partner, member, "ORD-1", link.token)
    return [report(partner, member, f"ORD-{n}", link.token) for n in (2, 3)]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_every_referral_page_answers_a_manager_and_nobody_else(
    flagged: Any, alliance_manager: User, compliance_reviewer: User, partner_admin: User
) -> None:
    pages = [f"{BASE}{m}/" for m in ("referraloffer", "referralconversion", "referralfee")]
    offer = ReferralOffer.objects.get()
    pages += [
        f"{BASE}referraloffer/{offer.pk}/funnel/",
        REVIEW,
        f"{BASE}referralconversion/{flagged[0].pk}/change/",
        f"{BASE}referralfee/{ReferralFee.objects.get().pk}/change/",
        f"{BASE}referraloffer/?q=Autumn",
        f"{BASE}referralconversion/?state__exact=flagged",
    ]
    manager = _client(alliance_manager)
    for page in pages:
        assert manager.get(page).status_code == 200, page
    for other in (compliance_reviewer, partner_admin):
        for page in pages:
            assert _client(other).get(page).status_code in (302, 403), (other, page)
        response = _client(other).post(
            f"{BASE}referralconversion/{flagged[0].pk}/review/",
            {"action": "approve", "reason": "x"},
        )
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert "/login/" in response["Location"]
    assert ReferralConversion.objects.filter(state="flagged").count() == 2


def test_a_manager_approves_and_rejects_from_the_review_queue_with_a_reason(
    flagged: list[ReferralConversion], alliance_manager: User
) -> None:
    manager = _client(alliance_manager)
    queue = manager.get(REVIEW).content.decode()
    assert "ORD-2" in queue
    assert "ORD-3" in queue
    assert "ORD-1" not in queue
    assert "Duplicate under another order id" in queue
    first, second = flagged
    blank = manager.post(f"{BASE}referralconversion/{first.pk}/review/", {"action": "approve"})
    assert blank.status_code == 302
    first.refresh_from_db()
    assert first.state == "flagged"
    manager.post(
        f"{BASE}referralconversion/{first.pk}/review/",
        {"action": "approve", "reason": "a second order of a gift"},
    )
    manager.post(
        f"{BASE}referralconversion/{second.pk}/review/", {"action": "reject", "reason": "a retry"}
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.review_reason) == ("approved", "a second order of a gift")
    assert (second.state, second.review_reason) == ("rejected", "a retry")
    assert "alice-manager" in first.reviewed_by
    assert ReferralFee.objects.filter(conversion=first).exists()
    audited = AuditEvent.objects.filter(action__startswith="referrals.conversion_").values_list(
        "action", "detail"
    )
    assert ("referrals.conversion_rejected", {"reason": "a retry", "flags": ["duplicate"]}) in [
        (action, detail) for action, detail in audited
    ]
    assert manager.get(f"{BASE}referralconversion/{first.pk}/review/").status_code == 405
    assert "No conversion awaits review." in manager.get(REVIEW).content.decode()


def test_the_lists_export_csv(flagged: Any, alliance_manager: User) -> None:
    manager = _client(alliance_manager)
    for model, expected in (
        ("referralconversion", "ORD-2"),
        ("referralfee", "ORD-1"),
        ("referraloffer", "Autumn collection"),
    ):
        response = manager.get(f"{BASE}{model}/export-csv/")
        assert response.status_code == 200, model
        assert expected in b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]


def test_japanese_console_pages(flagged: Any, alliance_manager: User) -> None:
    page = _client(alliance_manager).get(REVIEW, HTTP_ACCEPT_LANGUAGE="ja")
    assert "承認" in page.content.decode()
    assert Agreement.objects.count() == 1


def test_an_offers_funnel_is_a_chart_and_a_table(flagged: Any, alliance_manager: User) -> None:
    offer = ReferralOffer.objects.get()
    page = _client(alliance_manager).get(f"{BASE}referraloffer/{offer.pk}/funnel/")
    content = page.content.decode()
    assert "class='sanpo-chart-svg'" in content
    row = page.context["rows"][0]
    assert (row.clicks, row.conversions, row.flagged, row.rejected) == (1, 1, 2, 0)
    assert row.fees_yen == 500
    missing = _client(alliance_manager).get(f"{BASE}referraloffer/not-an-offer/funnel/")
    assert missing.status_code == 404
