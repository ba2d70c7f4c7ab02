"""The referral rules below the API: codes and tokens, the click and its safe page, the
attribution tie-break, each fraud rule, the consent gate at the moment of use, the terms, and
the fee lifecycle."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from consent.services import consent_withdraw
from federation.agreements.terms import TermsError, terms_clean
from federation.models import Agreement
from federation.referrals import codes
from federation.referrals.models import ReferralClick, ReferralConversion, ReferralFee
from federation.referrals.services import attribution as rules
from federation.referrals.services import (
    referral_click,
    referral_conversion_approve,
    referral_conversion_refund,
    referral_conversion_reject,
    referral_fees_lock_due,
    referral_link_create,
    with_token,
)
from partners.errors import ApplicationError
from partners.models import AuditEvent, MemberAccount, Partner
from tests.federation.referral_world import (
    LANDING,
    SYSTEM,
    campaign_link,
    click,
    consenting_member,
    host_offer,
    referral_agreement,
    report,
)

pytestmark = pytest.mark.django_db
Flag = ReferralConversion.Flag


@pytest.fixture
def agreed(host: Partner, partner: Partner) -> Agreement:
    return referral_agreement(host, partner)


@pytest.fixture
def hanako(host: Partner, partner: Partner, agreed: Agreement) -> MemberAccount:
    return consenting_member(partner, "B-1", host)


# --- Codes, tokens, fingerprints -------------------------------------------------------------


def test_codes_catch_every_single_typo_and_read_back_however_typed() -> None:
    for _ in range(200):
        code = codes.new_code()
        assert codes.normalize_code(code) == code
        assert codes.normalize_code(f" {codes.display_code(code).lower()} ") == code
        for position in range(codes.CODE_LENGTH):
            for other in codes.CODE_ALPHABET:
                if other != code[position]:
                    typo = code[:position] + other + code[position + 1 :]
                    assert codes.normalize_code(typo) is None
    assert not set("01OILU") & set(codes.CODE_ALPHABET)
    assert codes.normalize_code("ABCD") is None
    assert codes.normalize_code("OOOO-OOOOO") is None


def test_tokens_are_random_and_name_nothing() -> None:
    tokens = {codes.new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(codes.is_token(token) for token in tokens)
    assert not codes.is_token("../../evil")
    assert not codes.is_token("https://evil.example/x")


def test_fingerprints_are_coarse_and_keyed() -> None:
    chrome = "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0 Safari/537.36"
    same = codes.fingerprint("203.0.113.7", chrome)
    assert same == codes.fingerprint("203.0.113.200", chrome + " extra")  # same /24, family
    assert same != codes.fingerprint("203.0.114.7", chrome)
    assert same != codes.fingerprint("203.0.113.7", "Mozilla/5.0 Firefox/120.0")
    assert len(same) == 16
    assert "203.0.113" not in same
    assert codes.browser_family("curl/8.0") == "robot"
    assert codes.fingerprint("not an address", "") == codes.fingerprint("", "")


def test_the_token_is_added_to_the_landing_url_safely() -> None:
    url = "https://brand.example/a?sanpo_ref=attacker&x=1&y=%26#frag"
    assert with_token(url, "T0K3N") == "https://brand.example/a?x=1&y=%26&sanpo_ref=T0K3N#frag"


# --- The click ---------------------------------------------------------------------------------


def test_a_click_redirects_only_to_the_offers_landing_url(
    host: Partner, partner: Partner, agreed: Agreement
) -> None:
    link = campaign_link(host_offer(host, partner))
    client = Client()
    ok = client.get(f"/r/{link.token}?next=https://evil.example/")
    assert ok.status_code == 302
    assert ok["Location"].startswith(LANDING + "&sanpo_ref=")
    assert "evil" not in ok["Location"]
    for bad in ("A" * 32, link.token[:-1] + "!", "https:%2F%2Fevil.example", link.code):
        page = client.get(f"/r/{bad}")
        assert page.status_code == 404, bad
        assert "Location" not in page
        assert "evil" not in page.content.decode()
    page = client.get("/r/" + "A" * 32, HTTP_ACCEPT_LANGUAGE="ja")
    assert "この紹介リンクは無効です" in page.content.decode()
    assert ReferralClick.objects.count() == 1


def test_an_expired_offer_or_a_suspended_agreement_lands_on_the_safe_page(
    host: Partner, partner: Partner, agreed: Agreement
) -> None:
    offer = host_offer(host, partner)
    link = campaign_link(offer)
    after = timezone.now() + timedelta(days=400)
    assert referral_click(token=link.token, address="", user_agent="", at=after).location is None
    Agreement.objects.filter(pk=agreed.pk).update(status=Agreement.Status.SUSPENDED)
    assert Client().get(f"/r/{link.token}").status_code == 404
    assert ReferralClick.objects.count() == 0


def test_a_referrer_without_consent_gets_a_plain_link_and_nothing_is_recorded(
    host: Partner, partner: Partner, agreed: Agreement
) -> None:
    taro = consenting_member(host, "H-1", partner)
    link = referral_link_create(offer=host_offer(host, partner), member=taro, actor=SYSTEM)
    consent_withdraw(
        member=taro,
        purpose_code="referral_tracking",
        recipient=partner,
        channel="host_portal",
        occurred_at=timezone.now(),
        actor=SYSTEM,
    )
    visit = Client().get(f"/r/{link.token}")
    assert visit.status_code == 302
    assert visit["Location"] == LANDING
    assert ReferralClick.objects.count() == 0


# --- Attribution and fraud rules ----------------------------------------------------------------


def test_the_last_click_before_the_conversion_wins(
    host: Partner, partner: Partner, hanako: MemberAccount
) -> None:
    offer = host_offer(host, partner)
    first, second, third = (campaign_link(offer, name) for name in ("a", "b", "c"))
    now = timezone.now()
    click(first, at=now - timedelta(hours=3))
    winner = click(second, at=now - timedelta(hours=2))
    click(first, at=now - timedelta(hours=5))
    click(third, at=now + timedelta(hours=1))  # after the conversion: never the winner
    conversion = report(partner, hanako, "O-1", first.token, second.token, third.token, at=now)
    assert (conversion.link, conversion.click) == (second, winner)
    assert conversion.state == "recorded"


def test_a_conversion_before_any_click_is_flagged(
    host: Partner, partner: Partner, hanako: MemberAccount
) -> None:
    link = campaign_link(host_offer(host, partner))
    later = click(link)
    conversion = report(partner, hanako, "O-1", link.token, at=timezone.now() - timedelta(hours=1))
    assert conversion.flags == [Flag.BEFORE_CLICK]
    assert (conversion.state, conversion.click) == ("flagged", later)
    assert not ReferralFee.objects.exists()


def test_a_self_referral_is_flagged(host: Partner, partner: Partner, agreed: Agreement) -> None:
    taro = consenting_member(host, "H-1", partner, email="taro@example.jp")
    same = consenting_member(partner, "B-7", host, email="TARO@example.jp")
    taro.refresh_from_db()
    same.refresh_from_db()
    assert taro.person_id is not None
    assert taro.person_id == same.person_id  # matching linked them by the blind index
    link = referral_link_create(offer=host_offer(host, partner), member=taro, actor=SYSTEM)
    click(link)
    conversion = report(partner, same, "O-1", link.token)
    assert conversion.flags == [Flag.SELF_REFERRAL]
    other = consenting_member(partner, "B-8", host, email="someone@example.jp")
    assert report(partner, other, "O-2", link.token).flags == []


def test_velocity_per_link_and_per_device(
    host: Partner, partner: Partner, agreed: Agreement, monkeypatch: Any
) -> None:
    monkeypatch.setattr(rules, "VELOCITY_LIMIT_LINK", 3)
    monkeypatch.setattr(rules, "VELOCITY_LIMIT_FINGERPRINT", 2)
    offer = host_offer(host, partner)
    busy, other = campaign_link(offer, "busy"), campaign_link(offer, "other")
    click(busy, address="198.51.100.1")
    click(other, address="192.0.2.9")
    members = [consenting_member(partner, f"B-{n}", host) for n in range(6)]
    flags = [report(partner, members[n], f"O-{n}", busy.token).flags for n in range(4)]
    assert flags[:2] == [[], []]
    assert flags[2] == [Flag.VELOCITY_FINGERPRINT]
    assert flags[3] == [Flag.VELOCITY_FINGERPRINT, Flag.VELOCITY_LINK]
    assert report(partner, members[4], "O-4", other.token).flags == []


def test_a_second_conversion_of_a_member_under_another_order_is_a_flagged_duplicate(
    host: Partner, partner: Partner, hanako: MemberAccount
) -> None:
    link = campaign_link(host_offer(host, partner))
    click(link)
    first = report(partner, hanako, "O-1", link.token)
    second = report(partner, hanako, "O-2", link.token)
    assert (second.flags, second.duplicate_of) == ([Flag.DUPLICATE], first)
    lead = report(partner, hanako, "O-3", link.token, kind="lead", amount=Decimal(0))
    assert lead.flags == []  # a lead and a sale are each counted once


def test_a_manager_approves_or_rejects_a_flagged_conversion_with_a_reason(
    host: Partner, partner: Partner, hanako: MemberAccount
) -> None:
    link = campaign_link(host_offer(host, partner))
    click(link)
    report(partner, hanako, "O-1", link.token)
    flagged = report(partner, hanako, "O-2", link.token)
    also = report(partner, hanako, "O-3", link.token)
    with pytest.raises(ApplicationError) as refused:
        referral_conversion_approve(conversion=flagged, reason="  ", actor=SYSTEM)
    assert refused.value.code == "validation_failed"
    approved = referral_conversion_approve(
        conversion=flagged, reason="two people share the account", actor=SYSTEM
    )
    assert approved.state == "approved"
    assert ReferralFee.objects.get(conversion=approved).state == "pending"
    rejected = referral_conversion_reject(conversion=also, reason="a retry", actor=SYSTEM)
    assert rejected.state == "rejected"
    assert not ReferralFee.objects.filter(conversion=rejected).exists()
    with pytest.raises(ApplicationError) as again:
        referral_conversion_reject(conversion=approved, reason="changed my mind", actor=SYSTEM)
    assert again.value.code == "not_reviewable"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"referrals.conversion_approved", "referrals.conversion_rejected"} <= actions


# --- Fees and terms ------------------------------------------------------------------------------


def test_percent_fees_are_floored_to_whole_yen_and_locked_after_review(
    host: Partner, partner: Partner, agreed: Agreement
) -> None:
    member = consenting_member(partner, "B-1", host)
    offer = host_offer(host, partner)
    offer.sale_fee_yen, offer.sale_fee_percent = None, Decimal("2.5")
    offer.save(update_fields=["sale_fee_yen", "sale_fee_percent"])
    link = campaign_link(offer)
    click(link)
    conversion = report(partner, member, "O-1", link.token, amount=Decimal(12345))
    fee = ReferralFee.objects.get(conversion=conversion)
    assert fee.amount_yen == Decimal(308)  # 308.625 floored
    assert fee.lock_after - fee.created_at == timedelta(days=14)
    assert referral_fees_lock_due(now=fee.lock_after - timedelta(seconds=1)) == 0
    assert referral_fees_lock_due(now=fee.lock_after) == 1


def test_referral_terms_are_checked_and_old_documents_keep_their_form(
    host: Partner, partner: Partner
) -> None:
    parties, purposes = ["a", "b"], ["referral_tracking"]
    flows: list[Any] = [
        {"provider": "a", "recipient": "b", "purpose": "referral_tracking", "fields": ["email"]}
    ]
    old = {"fee_yen": "500", "attribution_days": 30}
    clean = terms_clean({"data_flows": flows, "referral": old}, parties=parties, purposes=purposes)
    assert clean["referral"] == {"fee_yen": "500", "fee_percent": None, "attribution_days": 30}
    new = {**old, "lead_fee_yen": "200.0", "review_days": 0}
    clean = terms_clean({"data_flows": flows, "referral": new}, parties=parties, purposes=purposes)
    assert clean["referral"]["lead_fee_yen"] == "200"
    assert clean["referral"]["review_days"] == 0
    for bad, path in [
        ({**old, "lead_fee_yen": -1}, "referral.lead_fee_yen"),
        ({**old, "review_days": 366}, "referral.review_days"),
        ({**old, "review_days": True}, "referral.review_days"),
        ({**old, "bonus": 1}, "referral.bonus"),
    ]:
        with pytest.raises(TermsError) as refused:
            terms_clean({"data_flows": flows, "referral": bad}, parties=parties, purposes=purposes)
        assert path in refused.value.errors


def test_a_lead_without_a_lead_fee_earns_nothing(host: Partner, partner: Partner) -> None:
    referral_agreement(host, partner, lead_fee_yen=None)
    member = consenting_member(partner, "B-1", host)
    link = campaign_link(host_offer(host, partner))
    click(link)
    lead = report(partner, member, "L-1", link.token, kind="lead", amount=Decimal(0))
    assert lead.state == "recorded"
    assert not ReferralFee.objects.exists()


def test_a_refunded_rejected_conversion_stays_rejected(
    host: Partner, partner: Partner, hanako: MemberAccount
) -> None:
    link = campaign_link(host_offer(host, partner))
    click(link)
    report(partner, hanako, "O-1", link.token)
    flagged = report(partner, hanako, "O-2", link.token)
    rejected = referral_conversion_reject(conversion=flagged, reason="a retry", actor=SYSTEM)
    refunded = referral_conversion_refund(conversion=rejected, actor=SYSTEM)
    assert refunded.state == "rejected"
    assert refunded.refunded_at is not None
    with pytest.raises(ApplicationError) as again:
        referral_conversion_refund(conversion=refunded, actor=SYSTEM)
    assert again.value.code == "already_refunded"
