"""Reports of one conversion racing each other on PostgreSQL: one is recorded, the others are
refused as a 409, never a 500, and the member's first conversion is counted once."""

from __future__ import annotations

import importlib
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.apps import apps
from django.db import connection

from federation.referrals.models import ReferralConversion, ReferralFee
from partners.models import Partner
from tests.conftest import Key, client_for
from tests.factories import issue_key, make_partner
from tests.federation.referral_world import (
    campaign_link,
    click,
    consenting_member,
    host_offer,
    referral_agreement,
    sale,
)

WORKERS = 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_reports_of_one_order_record_one_conversion_and_one_fee() -> None:
    # A transactional test starts from flushed tables: the purpose catalogue goes back first.
    importlib.import_module("consent.migrations.0002_seed_purposes").seed(apps, None)
    host = make_partner("host-co", kind=Partner.Kind.HOST)
    partner = make_partner("brand-co")
    referral_agreement(host, partner)
    member = consenting_member(partner, "B-1", host)
    link = campaign_link(host_offer(host, partner))
    click(link)
    key = Key(partner, issue_key(partner).plaintext)
    start = threading.Barrier(WORKERS)

    def send(n: int) -> int:
        # Half report the same order, half the same member's sale under other order ids.
        order = "RACE-1" if n % 2 == 0 else f"RACE-{n}"
        try:
            start.wait(timeout=30)
            response = client_for(key).post(
                "/api/v1/referrals/conversions",
                sale(member, order, tokens=[link.token]),
                format="json",
                HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
            )
            return int(response.status_code)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        statuses = list(pool.map(send, range(WORKERS)))
    assert 500 not in statuses
    assert set(statuses) <= {201, 409}
    assert ReferralConversion.objects.filter(order_id="RACE-1").count() == 1
    # Every order once (RACE-1, RACE-3, RACE-5): a report that lost the race for the member's
    # first conversion is recorded as its flagged duplicate, not refused.
    assert ReferralConversion.objects.count() == 3
    counted = ReferralConversion.objects.filter(duplicate_of__isnull=True)
    assert counted.count() == 1
    assert ReferralFee.objects.count() == 1
