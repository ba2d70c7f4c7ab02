"""The referral fee lock on beat: set-based, idempotent, announced to both companies, and
scheduled; flagged conversions are announced to both without their reasons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from config.celery import app
from federation.referrals.models import ReferralFee
from federation.referrals.tasks import lock_referral_fees
from partners.models import AuditEvent, Partner, WebhookDelivery, WebhookEndpoint
from tests.federation.referral_world import (
    campaign_link,
    click,
    consenting_member,
    host_offer,
    referral_agreement,
    report,
)

pytestmark = pytest.mark.django_db
EVENTS = ["referrals.conversion_flagged", "referrals.fee_locked", "referrals.conversion_recorded"]


@pytest.fixture
def hooks(host: Partner, partner: Partner) -> None:
    for who in (host, partner):
        WebhookEndpoint.objects.create(
            partner=who, url=f"https://hooks.{who.slug}.example/sanpo", events=EVENTS
        )


def test_the_lock_task_locks_due_fees_once_and_tells_both_companies(
    host: Partner, partner: Partner, hooks: None
) -> None:
    referral_agreement(host, partner, review_days=0)
    link = campaign_link(host_offer(host, partner))
    click(link)
    for n in range(3):
        report(partner, consenting_member(partner, f"B-{n}", host), f"O-{n}", link.token)
    assert ReferralFee.objects.filter(state="pending").count() == 3

    assert lock_referral_fees() == 3
    assert lock_referral_fees() == 0
    assert set(ReferralFee.objects.values_list("state", flat=True)) == {"locked"}
    slug_of = {str(host.pk): host.slug, str(partner.pk): partner.slug}
    locked = WebhookDelivery.objects.filter(event_type="referrals.fee_locked")
    told = sorted(
        (slug_of[d.payload["partner_id"]], len(d.payload["data"]["fees"])) for d in locked
    )
    assert told == sorted([(host.slug, 3), (partner.slug, 3)])
    roles = {
        slug_of[d.payload["partner_id"]]: {f["role"] for f in d.payload["data"]["fees"]}
        for d in locked
    }
    assert roles == {host.slug: {"earned"}, partner.slug: {"owed"}}
    assert AuditEvent.objects.filter(action="referrals.fees_locked").count() == 1


def test_fees_not_yet_due_stay_pending(host: Partner, partner: Partner) -> None:
    referral_agreement(host, partner)  # 14 days of review
    link = campaign_link(host_offer(host, partner))
    click(link)
    report(partner, consenting_member(partner, "B-1", host), "O-1", link.token)
    assert lock_referral_fees() == 0
    assert ReferralFee.objects.get().lock_after > timezone.now() + timedelta(days=13)


def test_beat_runs_the_lock_daily() -> None:
    entry: Any = app.conf.beat_schedule["federation-lock-referral-fees"]
    assert entry["task"] == "federation.tasks.lock_referral_fees"
    assert entry["task"] in app.tasks


def test_a_flagged_conversion_is_announced_to_both_without_its_reasons(
    host: Partner, partner: Partner, hooks: None
) -> None:
    referral_agreement(host, partner)
    member = consenting_member(partner, "B-1", host)
    link = campaign_link(host_offer(host, partner))
    click(link)
    report(partner, member, "O-1", link.token)
    report(partner, member, "O-2", link.token)
    slug_of = {str(host.pk): host.slug, str(partner.pk): partner.slug}
    flagged = WebhookDelivery.objects.filter(event_type="referrals.conversion_flagged")
    assert sorted(slug_of[d.payload["partner_id"]] for d in flagged) == sorted(
        [host.slug, partner.slug]
    )
    for delivery in flagged:
        data = delivery.payload["data"]
        assert data["state"] == "flagged"
        assert "flags" not in data
        assert member.member_number not in str(data)
