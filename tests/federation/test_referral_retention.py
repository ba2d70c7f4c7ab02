"""The clicks' retention: past SANPO_REFERRAL_CLICK_RETENTION_DAYS a daily task deletes the
clicks no conversion names and blanks the fingerprint of those one does; idempotent, audited,
scheduled by beat."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from config.celery import app
from federation.referrals.models import ReferralClick, ReferralConversion
from federation.referrals.services import referral_clicks_purge
from federation.referrals.tasks import purge_referral_clicks
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


def _aged(link: Any, days: int) -> ReferralClick:
    at = timezone.now() - timedelta(days=days)
    return ReferralClick.objects.create(link=link, offer=link.offer, at=at, fingerprint="ab" * 8)


@override_settings(SANPO_REFERRAL_CLICK_RETENTION_DAYS=400)
def test_old_clicks_go_unless_a_conversion_names_them(host: Partner, partner: Partner) -> None:
    referral_agreement(host, partner)
    link = campaign_link(host_offer(host, partner))
    old, kept_young = _aged(link, 401), _aged(link, 399)
    named = click(link)
    conversion = report(partner, consenting_member(partner, "B-1", host), "O-1", link.token)
    assert conversion.click_id == named.pk
    long_ago = timezone.now() - timedelta(days=500)
    ReferralClick.objects.filter(pk=named.pk).update(at=long_ago)
    ReferralConversion.objects.filter(pk=conversion.pk).update(
        click_at=long_ago, occurred_at=long_ago + timedelta(days=1)
    )

    assert purge_referral_clicks() == 1
    remaining = {c.pk: c.fingerprint for c in ReferralClick.objects.all()}
    assert set(remaining) == {kept_young.pk, named.pk}
    assert old.pk not in remaining
    assert remaining[named.pk] == ""  # kept for the attribution, nothing about the device
    assert remaining[kept_young.pk] == "ab" * 8
    event = AuditEvent.objects.get(action="referrals.clicks_purged")
    assert (event.detail["deleted"], event.detail["blanked"]) == (1, 1)

    assert referral_clicks_purge() == 0  # idempotent: nothing more, no second audit row
    assert AuditEvent.objects.filter(action="referrals.clicks_purged").count() == 1


@override_settings(SANPO_REFERRAL_CLICK_RETENTION_DAYS=400)
def test_the_purge_works_in_batches(host: Partner, partner: Partner) -> None:
    referral_agreement(host, partner)
    link = campaign_link(host_offer(host, partner))
    for _ in range(5):
        _aged(link, 402)
    assert referral_clicks_purge(batch=2) == 5
    assert not ReferralClick.objects.exists()


def test_beat_purges_clicks_daily() -> None:
    entry: Any = app.conf.beat_schedule["federation-purge-referral-clicks"]
    assert entry["task"] == "federation.tasks.purge_referral_clicks"
    assert entry["task"] in app.tasks
