"""The referral endpoints end to end: an offer, a link, a click through the public endpoint, a
conversion, its fee locked for settlement; and bad input and abuse, each a clear 4xx with
nothing written and nothing leaked."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from federation.models import Agreement
from federation.referrals.models import (
    ReferralClick,
    ReferralConversion,
    ReferralFee,
    ReferralLink,
    ReferralOffer,
)
from federation.referrals.selectors import locked_fees_between
from federation.referrals.services import referral_fees_lock_due, referral_fees_settle
from partners.models import AuditEvent, MemberAccount, Partner, WebhookDelivery, WebhookEndpoint
from tests.conftest import Key, client_for
from tests.factories import make_member
from tests.federation.referral_world import (
    SYSTEM,
    campaign_link,
    click,
    consenting_member,
    host_offer,
    post,
    referral_agreement,
    sale,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def agreed(host: Partner, partner: Partner) -> Agreement:
    return referral_agreement(host, partner)


@pytest.fixture
def taro(host: Partner, partner: Partner, agreed: Agreement) -> MemberAccount:
    """A host member who recommends the brand's products to friends."""
    return consenting_member(host, "H-1", partner)


@pytest.fixture
def hanako(host: Partner, partner: Partner, agreed: Agreement) -> MemberAccount:
    """A brand member (referred) who consents to referral tracking with the host."""
    return consenting_member(partner, "B-1", host)


def _state() -> tuple[Any, ...]:
    return (
        ReferralOffer.objects.count(),
        ReferralLink.objects.count(),
        ReferralClick.objects.count(),
        sorted(ReferralConversion.objects.values_list("pk", "state")),
        sorted(ReferralFee.objects.values_list("pk", "state", "amount_yen")),
    )


def test_offer_link_click_conversion_and_a_locked_fee_for_settlement(
    host: Partner, partner: Partner, host_key: Key, partner_key: Key, taro: Any, hanako: Any
) -> None:
    for who in (host, partner):
        WebhookEndpoint.objects.create(
            partner=who,
            url=f"https://hooks.{who.slug}.example/sanpo",
            events=["referrals.conversion_recorded", "referrals.fee_locked"],
        )
    offer = post(
        host_key,
        "offers",
        {
            "destination": partner.slug,
            "title_ja": "秋の新作",
            "title_en": "Autumn collection",
            "landing_url": "https://brand.example/autumn?utm_source=sanpo#top",
            "sale_fee_yen": "400",
        },
    )
    assert offer.status_code == 201, offer.content
    assert offer.json()["sale_fee_yen"] == "400"
    assert offer.json()["lead_fee_yen"] == "200"  # from the terms
    offer_id = offer.json()["offer_id"]

    link = post(host_key, f"offers/{offer_id}/links", {"member_number": taro.member_number})
    assert link.status_code == 201, link.content
    url = link.json()["url"]
    token = link.json()["token"]
    assert taro.member_number not in token
    assert len(token) == 32

    visit = Client().get(urlsplit(url).path, HTTP_USER_AGENT="Mozilla/5.0 Safari/605")
    assert visit.status_code == 302
    landed = urlsplit(visit["Location"])
    assert (landed.scheme, landed.netloc, landed.path) == ("https", "brand.example", "/autumn")
    assert parse_qs(landed.query) == {"utm_source": ["sanpo"], "sanpo_ref": [token]}
    assert landed.fragment == "top"

    converted = post(partner_key, "conversions", sale(hanako, "ORD-1", tokens=[token]))
    assert converted.status_code == 201, converted.content
    assert converted.json()["state"] == "recorded"
    assert converted.json()["fee_yen"] == "400"
    fee = ReferralFee.objects.get()
    assert (fee.state, fee.source, fee.destination) == ("pending", host, partner)
    assert WebhookDelivery.objects.filter(event_type="referrals.conversion_recorded").count() == 2

    later = fee.lock_after + timedelta(minutes=1)
    assert referral_fees_lock_due(now=later) == 1
    assert referral_fees_lock_due(now=later) == 0  # idempotent
    fee.refresh_from_db()
    assert fee.state == "locked"
    assert WebhookDelivery.objects.filter(event_type="referrals.fee_locked").count() == 2
    period = list(locked_fees_between(later - timedelta(days=1), later + timedelta(days=1)))
    assert period == [fee]
    assert referral_fees_settle(fee_ids=[fee.pk], reference="2026-12", actor=SYSTEM) == 1
    fee.refresh_from_db()
    assert (fee.state, fee.settlement_reference) == ("settled", "2026-12")

    funnel = client_for(host_key).get("/api/v1/referrals/funnel")
    assert funnel.status_code == 200
    [row] = funnel.json()["rows"]
    assert (row["role"], row["clicks"], row["conversions"], row["fees_yen"]) == (
        "source",
        1,
        1,
        "400",
    )
    [owed] = client_for(partner_key).get("/api/v1/referrals/funnel").json()["rows"]
    assert (owed["role"], owed["fees_yen"]) == ("destination", "400")


def test_the_same_order_twice_is_one_conversion(
    host: Partner, partner: Partner, partner_key: Key, hanako: Any
) -> None:
    link = campaign_link(host_offer(host, partner))
    click(link)
    body = sale(hanako, "ORD-1", tokens=[link.token])
    first = post(partner_key, "conversions", body, idempotency="retry-1")
    replay = post(partner_key, "conversions", body, idempotency="retry-1")
    assert replay.status_code == 201
    assert replay.json() == first.json()
    again = post(partner_key, "conversions", body)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conversion_exists"
    assert ReferralConversion.objects.count() == 1


def test_a_conversion_needs_an_idempotency_key(
    host: Partner, partner: Partner, partner_key: Key, hanako: Any
) -> None:
    link = campaign_link(host_offer(host, partner))
    click(link)
    response = post(partner_key, "conversions", sale(hanako, "O", tokens=[link.token]), None)
    assert response.status_code == 400
    assert ReferralConversion.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"kind": "sale", "order_id": "O", "amount_yen": "1", "tokens": ["x" * 32]},
            "member_number",
        ),
        (
            {"kind": "sale", "member_number": "B-1", "order_id": "O", "tokens": ["x" * 32]},
            "amount_yen",
        ),
        ({"kind": "sale", "member_number": "B-1", "order_id": "O", "amount_yen": "1"}, "tokens"),
        (
            {"kind": "gift", "member_number": "B-1", "order_id": "O", "code": "ABCD-EFGHJ"},
            "kind",
        ),
        (
            {
                "kind": "sale",
                "member_number": "B-1",
                "order_id": "O",
                "amount_yen": 1.5,
                "code": "ABCD",
            },
            "amount_yen",
        ),
        (
            {
                "kind": "lead",
                "member_number": "B-1",
                "order_id": "O",
                "tokens": [],
            },
            "tokens",
        ),
        (
            {
                "kind": "lead",
                "member_number": "B-1",
                "order_id": "O",
                "code": "AAAA-AAAAA",
                "tokens": ["x"],
            },
            "tokens",
        ),
        (
            {
                "kind": "lead",
                "member_number": "B-1",
                "order_id": "O",
                "code": "AAAA-AAAAA",
                "occurred_at": "2099-01-01T00:00:00Z",
            },
            "occurred_at",
        ),
    ],
)
def test_bad_conversion_input_is_a_400_naming_the_field(
    partner_key: Key, hanako: Any, body: dict[str, Any], field: str
) -> None:
    before = _state()
    response = post(partner_key, "conversions", body)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert _state() == before


def test_a_mistyped_code_is_refused_and_a_typed_code_converts(
    host: Partner, partner: Partner, partner_key: Key, hanako: Any
) -> None:
    link = campaign_link(host_offer(host, partner))
    typo = link.code[:3] + ("B" if link.code[3] != "B" else "C") + link.code[4:]
    refused = post(partner_key, "conversions", sale(hanako, "O-1", code=typo))
    assert refused.status_code == 400
    assert "code" in refused.json()["error"]["fields"]
    typed = f"{link.code[:4].lower()}-{link.code[4:]}"
    accepted = post(partner_key, "conversions", sale(hanako, "O-1", code=typed))
    assert accepted.status_code == 201, accepted.content
    conversion = ReferralConversion.objects.get()
    assert (conversion.link, conversion.click) == (link, None)


def test_unknown_tokens_and_another_destinations_are_a_404(
    host: Partner, partner: Partner, host_key: Key, partner_key: Key, hanako: Any, taro: Any
) -> None:
    link = campaign_link(host_offer(host, partner))
    click(link)
    before = _state()
    unknown = post(partner_key, "conversions", sale(hanako, "O", tokens=["A" * 32]))
    # The source reports a conversion for its own offer, for its own member: not its referral.
    own = post(host_key, "conversions", sale(taro, "O", tokens=[link.token]))
    for response in (unknown, own):
        assert response.status_code == 404, response.content
        assert response.json()["error"]["code"] == "not_found"
    assert own.content == unknown.content
    assert _state() == before


def test_a_conversion_outside_the_window_or_never_clicked_is_a_422(
    host: Partner, partner: Partner, partner_key: Key, hanako: Any
) -> None:
    offer = host_offer(host, partner, attribution_days=7)
    ReferralOffer.objects.filter(pk=offer.pk).update(
        valid_from=timezone.localdate() - timedelta(days=30)
    )
    old, fresh = campaign_link(offer, "a"), campaign_link(offer, "b")
    assert click(old, at=timezone.now() - timedelta(days=8)) is not None
    before = _state()
    late = post(partner_key, "conversions", sale(hanako, "O", tokens=[old.token]))
    assert late.status_code == 422
    assert late.json()["error"]["code"] == "outside_window"
    never = post(partner_key, "conversions", sale(hanako, "O", tokens=[fresh.token]))
    assert never.status_code == 422
    assert never.json()["error"]["code"] == "no_referral_click"
    assert _state() == before


def test_a_member_who_did_not_consent_is_not_tracked(
    host: Partner, partner: Partner, partner_key: Key, agreed: Agreement
) -> None:
    silent = make_member(partner, "B-9")  # never consented to referral tracking
    link = campaign_link(host_offer(host, partner))
    click(link)
    before = _state()
    events = AuditEvent.objects.count()
    response = post(partner_key, "conversions", sale(silent, "O", tokens=[link.token]))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "consent_required"
    assert _state() == before
    assert AuditEvent.objects.count() == events


def test_a_refund_reverses_a_pending_fee_and_claws_back_a_locked_one(
    host: Partner, partner: Partner, partner_key: Key, hanako: Any
) -> None:
    offer = host_offer(host, partner)
    link = campaign_link(offer)
    click(link)
    other = consenting_member(partner, "B-2", host)
    post(partner_key, "conversions", sale(hanako, "ORD-1", tokens=[link.token]))
    post(partner_key, "conversions", sale(other, "ORD-2", tokens=[link.token]))
    locked = ReferralFee.objects.get(conversion__order_id="ORD-2")
    ReferralFee.objects.filter(pk=locked.pk).update(lock_after=timezone.now())
    referral_fees_lock_due()

    pending = post(partner_key, "refunds", {"order_id": "ORD-1"})
    assert pending.status_code == 200, pending.content
    assert pending.json()["state"] == "refunded"
    assert ReferralFee.objects.get(conversion__order_id="ORD-1").state == "reversed"
    clawed = post(partner_key, "refunds", {"order_id": "ORD-2", "reason": "returned"})
    assert clawed.status_code == 200
    clawback = ReferralFee.objects.get(conversion__order_id="ORD-2", kind="clawback")
    assert (clawback.amount_yen, clawback.state, clawback.reason) == (
        Decimal(-500),
        "locked",
        "returned",
    )
    again = post(partner_key, "refunds", {"order_id": "ORD-2"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_refunded"


def test_a_source_cannot_refund_or_read_the_destinations_orders(
    host: Partner, partner: Partner, host_key: Key, partner_key: Key, hanako: Any
) -> None:
    link = campaign_link(host_offer(host, partner))
    click(link)
    post(partner_key, "conversions", sale(hanako, "ORD-1", tokens=[link.token]))
    before = _state()
    response = post(host_key, "refunds", {"order_id": "ORD-1"})
    assert response.status_code == 404
    assert _state() == before


def test_offers_only_narrow_the_terms(
    host: Partner, partner: Partner, host_key: Key, agreed: Agreement
) -> None:
    base = {"destination": partner.slug, "title_ja": "秋", "title_en": "Autumn"}
    url = {"landing_url": "https://brand.example/"}
    cases = [
        ({**base, **url, "sale_fee_yen": "501"}, 422, "fee_not_allowed"),
        ({**base, **url, "sale_fee_percent": "3"}, 422, "fee_not_allowed"),
        ({**base, **url, "attribution_days": 31}, 422, "fee_not_allowed"),
        ({**base, "landing_url": "http://brand.example/"}, 400, "validation_failed"),
        ({**base, "landing_url": "https://user:pw@brand.example/"}, 400, "validation_failed"),
        ({**base, "landing_url": "javascript:alert(1)"}, 400, "validation_failed"),
        ({**base, **url, "destination": "nobody-co"}, 403, "no_agreement"),
        ({**base, **url, "destination": host.slug}, 403, "no_agreement"),
        ({**base, **url, "valid_until": "2099-01-01"}, 400, "validation_failed"),
        ({**base, **url, "sale_fee_percent": "abc"}, 400, "validation_failed"),
    ]
    for body, status, code in cases:
        response = post(host_key, "offers", body)
        assert response.status_code == status, (body, response.content)
        assert response.json()["error"]["code"] == code
    assert ReferralOffer.objects.count() == 0


def test_links_are_the_sources_alone(
    host: Partner, partner: Partner, host_key: Key, partner_key: Key, taro: Any
) -> None:
    offer = host_offer(host, partner)
    campaign_link(offer)
    mine = client_for(host_key).get(f"/api/v1/referrals/offers/{offer.pk}/links")
    assert mine.status_code == 200
    assert len(mine.json()["results"]) == 1
    theirs = client_for(partner_key).get(f"/api/v1/referrals/offers/{offer.pk}/links")
    assert theirs.status_code == 404
    both = client_for(partner_key).get("/api/v1/referrals/offers").json()["results"]
    assert [(o["offer_id"], o["role"]) for o in both] == [(str(offer.pk), "destination")]
    stranger = post(partner_key, f"offers/{offer.pk}/links", {"campaign": "mine now"})
    assert stranger.status_code == 404
    not_theirs = post(host_key, f"offers/{offer.pk}/links", {"member_number": "B-1"})
    assert not_theirs.status_code == 404


def test_a_link_for_a_member_who_does_not_consent_is_refused(
    host: Partner, partner: Partner, host_key: Key, agreed: Agreement
) -> None:
    make_member(host, "H-9")
    offer = host_offer(host, partner)
    response = post(host_key, f"offers/{offer.pk}/links", {"member_number": "H-9"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "consent_required"
    both = post(host_key, f"offers/{offer.pk}/links", {"member_number": "H-9", "campaign": "x"})
    assert both.status_code == 400
    assert ReferralLink.objects.count() == 0


def test_the_funnel_refuses_bad_ranges_and_costs_the_same_queries_for_more_data(
    host: Partner, partner: Partner, host_key: Key, partner_key: Key, hanako: Any
) -> None:
    client = client_for(host_key)
    for query in (
        "from=2026-13-01",
        "from=2026-01-10&to=2026-01-01",
        "from=2025-01-01&to=2026-01-01",
        "offer=nope",
        "to=0001-01-08",  # found by fuzzing: the default start overflowed (a 500)
        "from=2024-06-01&to=0001-01-08",
        "from=3000-01-01",
    ):
        response = client.get(f"/api/v1/referrals/funnel?{query}")
        assert response.status_code == 400, query
    offer = host_offer(host, partner)
    link = campaign_link(offer)
    click(link)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/referrals/funnel").status_code == 200
        return len(captured)

    few = queries()
    for n in range(5):
        click(campaign_link(offer, f"c{n}"))
    post(partner_key, "conversions", sale(hanako, "ORD-1", tokens=[link.token]))
    assert queries() == few


def test_the_click_endpoint_takes_no_post(host: Partner, partner: Partner, agreed: Any) -> None:
    link = campaign_link(host_offer(host, partner))
    assert Client().post(f"/r/{link.token}").status_code == 405
    assert Client().head(f"/r/{link.token}").status_code == 302
    assert ReferralClick.objects.count() == 1


def test_the_lists_cost_the_same_queries_for_more_rows(
    host: Partner, partner: Partner, host_key: Key, taro: Any
) -> None:
    offer = host_offer(host, partner)
    client = client_for(host_key)
    paths = ["/api/v1/referrals/offers", f"/api/v1/referrals/offers/{offer.pk}/links"]

    def queries() -> list[int]:
        counts = []
        for path in paths:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(path).status_code == 200
            counts.append(len(captured))
        return counts

    campaign_link(offer)
    client.get(paths[0])  # the key's last use is recorded on its first request, not counted here
    few = queries()
    for n in range(4):
        host_offer(host, partner)
        post(host_key, f"offers/{offer.pk}/links", {"member_number": taro.member_number})
        campaign_link(offer, f"c{n}")
    assert queries() == few


def test_the_schema_documents_every_refusal_of_a_conversion() -> None:
    schema = client_for(None).get("/api/schema/", {"format": "json"}).json()
    responses = schema["paths"]["/api/v1/referrals/conversions"]["post"]["responses"]

    def codes(status: str) -> set[str]:
        return set(responses[status]["content"]["application/json"]["examples"])

    assert {"outside_window", "no_referral_click", "offer_not_valid"} <= codes("422")
    assert {"no_agreement", "consent_required"} <= codes("403")
    assert "conversion_exists" in codes("409")
    assert "not_found" in codes("404")
    refunds = schema["paths"]["/api/v1/referrals/refunds"]["post"]["responses"]
    assert "already_refunded" in set(refunds["409"]["content"]["application/json"]["examples"])


def test_a_company_never_reads_another_companys_funnel(
    host: Partner,
    partner: Partner,
    outsider: Partner,
    outsider_key: Key,
    partner_key: Key,
    hanako: Any,
) -> None:
    offer = host_offer(host, partner)
    link = campaign_link(offer)
    click(link)
    post(partner_key, "conversions", sale(hanako, "ORD-1", tokens=[link.token]))
    stranger = client_for(outsider_key)
    for query in ("", f"?offer={offer.pk}"):
        response = stranger.get(f"/api/v1/referrals/funnel{query}")
        assert response.status_code == 200
        assert response.json() == {"rows": []}
    assert str(offer.pk) not in stranger.get("/api/v1/referrals/offers").content.decode()


def test_a_lead_earns_the_lead_fee(
    host: Partner, partner: Partner, partner_key: Key, hanako: Any
) -> None:
    link = campaign_link(host_offer(host, partner))
    click(link)
    body = {"kind": "lead", "member_number": "B-1", "order_id": "SIGNUP-1", "tokens": [link.token]}
    response = post(partner_key, "conversions", body)
    assert response.status_code == 201, response.content
    assert response.json()["fee_yen"] == "200"
    assert ReferralConversion.objects.get().amount_yen == 0
