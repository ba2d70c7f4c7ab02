"""The funnel's counts of refunded conversions: one that counted before its refund stays a
conversion (the refund undoes the fee, not the referral); one refunded while flagged for
review never counted and is neither a conversion nor flagged any more; both are refunded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from federation.referrals.selectors import funnel_of
from federation.referrals.services import (
    referral_conversion_approve,
    referral_conversion_refund,
)
from partners.models import Partner
from tests.conftest import Key, client_for
from tests.federation.referral_world import (
    SYSTEM,
    campaign_link,
    click,
    consenting_member,
    host_offer,
    referral_agreement,
    report,
)

pytestmark = pytest.mark.django_db


def _funnel(partner: Partner) -> dict[str, int]:
    today = timezone.localdate()
    rows = funnel_of(partner, first=today - timedelta(days=1), last=today)
    names = ("clicks", "conversions", "flagged", "rejected", "refunded")
    return {name: sum(getattr(row, name) for row in rows) for name in names}


def test_refunded_conversions_are_counted_as_such(
    host: Partner, partner: Partner, host_key: Key
) -> None:
    referral_agreement(host, partner)
    link = campaign_link(host_offer(host, partner))
    click(link)
    members = [consenting_member(partner, f"B-{n}", host) for n in range(4)]
    counted = report(partner, members[0], "O-1", link.token)
    first = report(partner, members[1], "O-2", link.token)
    duplicate = report(partner, members[1], "O-3", link.token)  # flagged: a second order
    approved = report(partner, members[2], "O-4", link.token)
    assert (first.state, duplicate.state) == ("recorded", "flagged")
    assert _funnel(host) == {
        "clicks": 1,
        "conversions": 3,
        "flagged": 1,
        "rejected": 0,
        "refunded": 0,
    }

    referral_conversion_refund(conversion=counted, actor=SYSTEM)
    referral_conversion_refund(conversion=duplicate, actor=SYSTEM)  # refunded while flagged
    assert _funnel(host) == {
        "clicks": 1,
        "conversions": 3,
        "flagged": 0,
        "rejected": 0,
        "refunded": 2,
    }
    assert _funnel(partner) == _funnel(host)  # the destination counts the same

    held = report(partner, members[2], "O-5", link.token)
    assert held.state == "flagged"
    referral_conversion_approve(conversion=held, reason="two memberships", actor=SYSTEM)
    referral_conversion_refund(conversion=held, actor=SYSTEM)  # approved, then refunded
    referral_conversion_refund(conversion=approved, actor=SYSTEM)
    assert _funnel(host) == {
        "clicks": 1,
        "conversions": 4,
        "flagged": 0,
        "rejected": 0,
        "refunded": 4,
    }
    [row] = client_for(host_key).get("/api/v1/referrals/funnel").json()["rows"]
    assert (row["conversions"], row["flagged"], row["refunded"]) == (4, 0, 4)
