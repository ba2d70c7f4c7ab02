"""The referral clicks are range-partitioned by month of ``at`` on PostgreSQL (README,
"Partitioning"): a click lands in its month's partition, a conversion names it by ``(click_id,
click_at)``, the daily task makes months ahead and drops expired months no conversion names,
and the funnel's period reads only the partitions of that period."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.celery import app
from federation.referrals.models import ReferralClick, ReferralConversion, ReferralLink
from federation.referrals.selectors import funnel_of
from federation.referrals.services import (
    referral_click_months_create,
    referral_click_partitions_maintain,
    referral_clicks_purge,
)
from federation.referrals.services.click_partitions import PARTITION_MONTHS_AHEAD
from partners.models import AuditEvent, Partner
from partners.partitions import next_month
from tests.factories import make_partner
from tests.federation.referral_world import (
    campaign_link,
    click,
    consenting_member,
    host_offer,
    referral_agreement,
    report,
)
from tests.partitions import (
    check_deferred_now,
    month_of,
    partition_key_and_primary_key,
    partition_name,
    partition_of,
    partitions,
)

pytestmark = pytest.mark.django_db
TABLE = "federation_referralclick"
postgres = pytest.mark.postgres


@pytest.fixture
def link(host: Partner, partner: Partner) -> ReferralLink:
    referral_agreement(host, partner)
    return campaign_link(host_offer(host, partner))


def _converted(partner: Partner, link: ReferralLink, number: str) -> ReferralConversion:
    click(link)
    member = consenting_member(partner, number, link.offer.source)
    return report(partner, member, f"O-{number}", link.token)


def _move(click: ReferralClick, at: datetime) -> None:
    """Put a click (and any conversion naming it) at another time: PostgreSQL moves the row
    to the partition of its new month."""
    with transaction.atomic():  # the composite key is checked at commit
        ReferralClick.objects.filter(pk=click.pk).update(at=at)
        ReferralConversion.objects.filter(click=click).update(click_at=at)


def _at(day: date, hours: int = 0) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=hours)


def test_a_conversion_carries_its_clicks_time_and_never_one_without_the_other(
    partner: Partner, link: ReferralLink
) -> None:
    conversion = _converted(partner, link, "B-1")

    assert conversion.click is not None
    assert conversion.click_at == conversion.click.at
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferralConversion.objects.filter(pk=conversion.pk).update(click_at=None)


@postgres
def test_after_migrate_the_clicks_are_partitioned_and_conversions_hold_the_composite_key() -> None:
    with connection.cursor() as cursor:
        key, primary_key = partition_key_and_primary_key(TABLE)
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid = 'federation_referralconversion'::regclass "
            "AND confrelid = %s::regclass",
            [TABLE],
        )
        foreign_keys = [row[0] for row in cursor.fetchall()]

    assert key == "RANGE (at)"
    assert primary_key == ["at", "id"]
    assert foreign_keys == [
        "FOREIGN KEY (click_id, click_at) REFERENCES federation_referralclick(id, at) "
        "DEFERRABLE INITIALLY DEFERRED"
    ]
    this_month = timezone.now().date()
    expected = {
        partition_name(TABLE, month_of(this_month, n)) for n in range(PARTITION_MONTHS_AHEAD + 1)
    }
    assert expected | {f"{TABLE}_default"} <= partitions(TABLE)


@postgres
def test_a_click_lands_in_its_months_partition_and_the_key_refuses_a_wrong_time(
    partner: Partner, link: ReferralLink
) -> None:
    conversion = _converted(partner, link, "B-1")
    far = click(link)
    _move(far, datetime(2001, 2, 3, tzinfo=UTC))

    assert conversion.click is not None
    assert partition_of(TABLE, conversion.click.pk) == partition_name(
        TABLE, conversion.click.at.date()
    )
    assert partition_of(TABLE, far.pk) == f"{TABLE}_default"
    check_deferred_now()  # from here on each statement is checked as it runs
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferralConversion.objects.filter(pk=conversion.pk).update(
            click_at=F("click_at") + timedelta(seconds=1)
        )


@postgres
def test_the_daily_task_makes_months_ahead_once(link: ReferralLink) -> None:
    later = timezone.now().date() + timedelta(days=400)
    early = click(link)
    _move(early, _at(month_of(later, 1), hours=50))
    check_deferred_now()  # a table with checks pending cannot take a partition
    assert partition_of(TABLE, early.pk) == f"{TABLE}_default"

    first = referral_click_partitions_maintain(today=later)
    again = referral_click_partitions_maintain(today=later)

    wanted = [partition_name(TABLE, month_of(later, n)) for n in range(PARTITION_MONTHS_AHEAD + 1)]
    assert first.created == wanted
    assert (again.created, again.dropped) == ([], [])
    assert partition_of(TABLE, early.pk) == partition_name(TABLE, month_of(later, 1))


@postgres
def test_an_expired_month_goes_whole_unless_a_conversion_names_a_click_in_it(
    partner: Partner, link: ReferralLink, settings: Any
) -> None:
    settings.SANPO_REFERRAL_CLICK_RETENTION_DAYS = 400
    today = timezone.now().date()
    expired_month = month_of(today - timedelta(days=400 + 92))
    named_month = next_month(expired_month)  # ends before the retention too
    assert referral_click_months_create(first=expired_month, last=named_month) == [
        partition_name(TABLE, expired_month),
        partition_name(TABLE, named_month),
    ]
    conversion = _converted(partner, link, "B-1")
    named = conversion.click
    assert named is not None
    expired, unnamed, recent = click(link), click(link), click(link)
    _move(expired, _at(expired_month, hours=30))
    _move(named, _at(named_month, hours=30))
    _move(unnamed, _at(named_month, hours=40))
    check_deferred_now()  # the task only ever sees committed rows

    changes = referral_click_partitions_maintain(today=today)

    assert changes.dropped == [partition_name(TABLE, expired_month)]
    assert partition_name(TABLE, expired_month) not in partitions(TABLE)
    assert partition_name(TABLE, named_month) in partitions(TABLE)
    assert not ReferralClick.objects.filter(pk=expired.pk).exists()
    event = AuditEvent.objects.get(action="referrals.clicks_purged")
    assert event.detail["months_dropped"] == [partition_name(TABLE, expired_month)]
    # The month a conversion names keeps the row-by-row purge of its other clicks.
    assert referral_clicks_purge() == 1
    kept = dict(ReferralClick.objects.values_list("pk", "fingerprint"))
    assert set(kept) == {named.pk, recent.pk}
    assert kept[named.pk] == ""
    assert referral_click_partitions_maintain(today=today).dropped == []


@postgres
def test_the_funnels_period_reads_only_that_periods_partitions(
    host: Partner, link: ReferralLink
) -> None:
    click(link)
    month = month_of(timezone.now().date())
    plan = _funnel_click_plan(host, first=month + timedelta(days=2), last=month + timedelta(20))
    everything = _funnel_click_plan(host, first=month - timedelta(days=800), last=month)

    assert partition_name(TABLE, month) in plan
    assert partition_name(TABLE, next_month(month)) not in plan
    assert f"{TABLE}_default" not in plan
    assert f"{TABLE}_default" in everything  # two years back reach the default partition


def _funnel_click_plan(partner: Partner, *, first: date, last: date) -> str:
    """The plan of the funnel's click query, as the funnel sends it."""
    with CaptureQueriesContext(connection) as queries:
        funnel_of(partner, first=first, last=last)
    (sql,) = [q["sql"] for q in queries.captured_queries if f'FROM "{TABLE}"' in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@postgres
@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_clicks_and_conversions_both_ways() -> None:
    # A transactional test starts from flushed tables: the purpose catalogue goes back first.
    importlib.import_module("consent.migrations.0002_seed_purposes").seed(apps, None)
    host = make_partner("host-co", kind=Partner.Kind.HOST)
    partner = make_partner("brand-co")
    referral_agreement(host, partner)
    link = campaign_link(host_offer(host, partner))
    conversion = _converted(partner, link, "B-1")
    named = conversion.click
    assert named is not None
    earlier_month = month_of(timezone.now().date() - timedelta(days=70))
    _move(named, _at(earlier_month, hours=30))
    executor = MigrationExecutor(connection)
    executor.migrate([("federation", "0016_campaign_holdout_members")])
    try:
        assert not partitions(TABLE)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
                "AND conrelid = 'federation_referralconversion'::regclass "
                "AND confrelid = %s::regclass",
                [TABLE],
            )
            assert cursor.fetchone()[0] == 1  # Django's own foreign key is back
    finally:
        call_command("migrate", verbosity=0)

    assert partition_of(TABLE, named.pk) == partition_name(TABLE, earlier_month)
    assert ReferralConversion.objects.get(pk=conversion.pk).click_at == _at(earlier_month, 30)
    assert ReferralClick.objects.count() == 1


def test_beat_maintains_the_click_partitions_before_the_purge() -> None:
    schedule: Any = app.conf.beat_schedule
    entry = schedule["federation-maintain-referral-click-partitions"]
    purge = schedule["federation-purge-referral-clicks"]
    assert entry["task"] == "federation.tasks.maintain_referral_click_partitions"
    assert entry["task"] in app.tasks
    assert entry["schedule"].hour == purge["schedule"].hour
    assert max(entry["schedule"].minute) < min(purge["schedule"].minute)
