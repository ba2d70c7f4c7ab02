"""The referral benchmark's parts: its baseline 302 exists only under the benchmark's own
settings, and its funnel load gives the counts its docstring promises, which the funnel and
the baseline GROUP BYs agree on (on PostgreSQL: the load is SQL with arrays and
generate_series)."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from federation.referrals.bench import funnel, load
from federation.referrals.bench.urls import STATIC_302
from federation.referrals.models import ReferralClick, ReferralConversion
from partners.models import Partner
from tests.factories import make_partner
from tests.federation.referral_world import host_offer, referral_agreement


@pytest.mark.django_db
def test_the_static_302_is_served_only_under_the_benchmarks_settings() -> None:
    assert Client().get(f"/{STATIC_302}").status_code == 404  # production's URLs
    with override_settings(ROOT_URLCONF="federation.referrals.bench.urls"):
        response = Client().get(f"/{STATIC_302}")
    assert response.status_code == 302
    assert response["Location"].startswith("https://")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_funnel_load_gives_its_counts_and_both_sides_agree() -> None:
    # A transactional test starts from flushed tables: the purpose catalogue goes back first.
    importlib.import_module("consent.migrations.0002_seed_purposes").seed(apps, None)
    host = make_partner("host-co", kind=Partner.Kind.HOST)
    partner = make_partner("brand-co")
    referral_agreement(host, partner)
    load.load(host_offer(host, partner), clicks=2_000, conversions=400)
    assert ReferralClick.objects.count() == 2_000
    with connection.cursor() as cursor:  # each in its month's partition, none in the default
        cursor.execute("SELECT count(*) FROM federation_referralclick_default")
        assert cursor.fetchone()[0] == 0
    assert ReferralConversion.objects.count() == 400
    today = timezone.localdate()
    timing = funnel.alternate(partner, today - timedelta(days=load.DAYS), today, rounds=1)
    assert timing.same_totals()
    totals = {
        name: sum(getattr(row, name) for row in timing.rows)
        for name in ("clicks", "conversions", "flagged", "rejected", "refunded")
    }
    # Per hundred: 90 recorded, 4 flagged, 3 rejected, 2 refunded, 1 refunded while flagged.
    assert totals == {
        "clicks": 2_000,
        "conversions": 4 * 92,
        "flagged": 4 * 4,
        "rejected": 4 * 3,
        "refunded": 4 * 3,
    }
    assert sum(row.fees_yen for row in timing.rows) == 4 * 90 * 500
