"""Conversions the destination reports by its own member number alone, for a member who
joined its programme through mutual enrollment: attributed to the last click on the links the
source gave that member, within the window; every refusal a clear 4xx with nothing written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from consent.services import consent_withdraw
from federation.enrollment.models import Enrollment
from federation.models import Agreement
from federation.referrals.models import ReferralClick, ReferralConversion, ReferralLink
from federation.referrals.services import referral_link_create
from partners.models import AuditEvent, MemberAccount, Partner, Person
from tests.conftest import Key
from tests.federation.referral_world import (
    PURPOSE,
    SYSTEM,
    click,
    consenting_member,
    host_offer,
    post,
    referral_agreement,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def agreed(host: Partner, partner: Partner) -> Agreement:
    return referral_agreement(host, partner)


@pytest.fixture
def taro(host: Partner, partner: Partner, agreed: Agreement) -> MemberAccount:
    """The host's member, who consents to referral tracking with the brand."""
    return consenting_member(host, "H-1", partner)


@pytest.fixture
def joined(partner: Partner, host: Partner, agreed: Agreement) -> MemberAccount:
    """Taro's new account at the brand, after he joined through mutual enrollment."""
    return consenting_member(partner, "B-77", host)


def _enroll(taro: MemberAccount, joined: MemberAccount, agreement: Agreement, **kw: Any) -> Any:
    return Enrollment.objects.create(
        member=taro,
        source=taro.partner,
        target=joined.partner,
        agreement=agreement,
        fields=["email"],
        status=kw.get("status", Enrollment.Status.CONFIRMED),
        requested_by="test",
        target_member_number=joined.member_number,
    )


def _link(offer: Any, member: MemberAccount) -> ReferralLink:
    return referral_link_create(offer=offer, member=member, actor=SYSTEM)


def _body(member: MemberAccount, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "lead",
        "member_number": member.member_number,
        "order_id": "JOIN-1",
        "enrolled": True,
        **extra,
    }


def test_the_last_click_on_the_members_own_links_wins(
    host: Partner,
    partner: Partner,
    partner_key: Key,
    agreed: Agreement,
    taro: MemberAccount,
    joined: MemberAccount,
) -> None:
    _enroll(taro, joined, agreed)
    person = Person.objects.create()  # matching linked both accounts: no self-referral here
    MemberAccount.objects.filter(pk__in=[taro.pk, joined.pk]).update(person=person)
    autumn, winter = _link(host_offer(host, partner), taro), _link(host_offer(host, partner), taro)
    now = timezone.now()
    click(autumn, at=now - timedelta(hours=3))
    tied_first = click(winter, at=now - timedelta(hours=2))
    tied_last = click(autumn, at=now - timedelta(hours=2))  # same instant, recorded later
    click(winter, at=now + timedelta(hours=1))  # after the conversion: not a candidate
    response = post(partner_key, "conversions", _body(joined, occurred_at=now.isoformat()))
    assert response.status_code == 201, response.json()
    conversion = ReferralConversion.objects.get()
    assert tied_first.pk < tied_last.pk
    assert (conversion.click_id, conversion.link_id) == (tied_last.pk, autumn.pk)
    assert (conversion.member_id, conversion.state, conversion.flags) == (
        joined.pk,
        "recorded",
        [],
    )
    assert response.json()["offer_id"] == str(autumn.offer_id)


def _nothing_written(before: int) -> None:
    assert not ReferralConversion.objects.exists()
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("unknown_member", 404, "not_found"),
        ("not_enrolled", 422, "not_enrolled"),
        ("enrollment_ended", 422, "not_enrolled"),
        ("no_link", 422, "no_referral_click"),
        ("never_clicked", 422, "no_referral_click"),
        ("outside_window", 422, "outside_window"),
        ("consent_withdrawn", 403, "consent_required"),
        ("with_tokens_too", 400, "validation_failed"),
    ],
)
def test_refusals_are_clear_and_write_nothing(
    case: str,
    status: int,
    code: str,
    host: Partner,
    partner: Partner,
    partner_key: Key,
    agreed: Agreement,
    taro: MemberAccount,
    joined: MemberAccount,
) -> None:
    if case != "not_enrolled":
        ended = Enrollment.Status.ENDED if case == "enrollment_ended" else None
        _enroll(taro, joined, agreed, **({"status": ended} if ended else {}))
    link = None if case == "no_link" else _link(host_offer(host, partner), taro)
    if case == "outside_window" and link is not None:  # before the offer's 30-day window
        at = timezone.now() - timedelta(days=31)
        ReferralClick.objects.create(link=link, offer=link.offer, at=at, fingerprint="f" * 16)
    elif link is not None and case != "never_clicked":
        click(link, at=timezone.now() - timedelta(hours=1))
    if case == "consent_withdrawn":
        consent_withdraw(
            member=taro,
            purpose_code=PURPOSE,
            recipient=partner,
            channel="host_portal",
            occurred_at=timezone.now(),
            actor=SYSTEM,
        )
    body = _body(joined)
    if case == "unknown_member":
        body["member_number"] = "B-NOBODY"
    if case == "with_tokens_too":
        body["tokens"] = [link.token if link else "x" * 32]
    before = AuditEvent.objects.count()
    clicks = ReferralClick.objects.count()
    response = post(partner_key, "conversions", body)
    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (status, code), error
    assert error["message"]
    _nothing_written(before)
    assert ReferralClick.objects.count() == clicks
