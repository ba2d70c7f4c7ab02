"""The daily partition changes give way to writers (``partners.partitions``).

Creating a partition locks the parent, then the tables the parent's foreign keys name. A writer
that has written one of those (a partner's row, say) and then touches the parent waits on the
change, while the change waits on it: a deadlock, which PostgreSQL breaks after
``deadlock_timeout`` by aborting one of the two, possibly the writer. The change's lock timeout
is shorter, so the change gives up first, the writer goes on, and the change is tried again.

And a month whose rows already sit in the default partition, when other tables point to them,
stays in the default (moving them would break the keys) while the later months are made."""

import logging
import threading
import time
from datetime import UTC, date, datetime

import pytest
from django.db import connection, transaction

from consent.models import ConsentEvent, ConsentState
from consent.services import consent_event_partitions_maintain
from partners.models import Partner
from partners.partitions import month_partitions
from tests.factories import grant_consent, make_member, make_notice, make_partner

pytestmark = pytest.mark.postgres
FAR = date(2031, 1, 1)  # months no test makes otherwise


def _waiting_for_a_lock_on(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted AND relation = %s::regclass)",
            [table],
        )
        return bool(cursor.fetchone()[0])


def _drop_far_partitions(table: str) -> None:
    with connection.cursor() as cursor:
        for partition in month_partitions(table):
            if partition.start >= FAR:
                cursor.execute(f'ALTER TABLE {table} DETACH PARTITION "{partition.name}"')
                cursor.execute(f'DROP TABLE "{partition.name}"')


@pytest.mark.django_db(transaction=True)
def test_a_writer_holding_a_referenced_row_goes_on_and_the_partitions_are_made_after() -> None:
    """The consent events' task (the shared ``month_partitions_create``; the coin entries' and
    the webhook deliveries' own changes run under the same ``with_lock_retries``)."""
    table = "consent_consentevent"  # its recipient and captured-by keys name partners_partner
    partner = make_partner("lock-co")
    wrote, go = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE partners_partner SET slug = slug WHERE id = %s", [partner.pk]
                )
                wrote.set()
                go.wait(10)
                cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - a constant
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    made: list[str] = []

    def change() -> None:
        try:
            made.extend(consent_event_partitions_maintain(today=FAR))
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer), threading.Thread(target=change)]
    try:
        threads[0].start()
        assert wrote.wait(10), failures
        threads[1].start()
        deadline = time.monotonic() + 10
        while not _waiting_for_a_lock_on("partners_partner") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _waiting_for_a_lock_on("partners_partner"), "the change never waited on the writer"
        go.set()  # the writer now reads the parent, which the change holds
        for thread in threads:
            thread.join(30)
        assert failures == []
        assert made == [f"{table}_p2031_{month:02d}" for month in (1, 2, 3, 4)]
    finally:
        go.set()
        _drop_far_partitions(table)


@pytest.mark.django_db
def test_a_month_in_the_default_that_other_rows_point_to_stays_there_and_later_ones_are_made(
    host: Partner, partner: Partner, caplog: pytest.LogCaptureFixture
) -> None:
    make_notice(purposes=["cross_enrollment"], recipients=[partner], data_items=["name"])
    member = make_member(host, "K-9")
    grant_consent(member, partner, "cross_enrollment")
    event = ConsentEvent.objects.get(member=member)
    late = datetime(2031, 1, 15, tzinfo=UTC)  # no partition yet: it goes to the default
    ConsentEvent.objects.filter(pk=event.pk).update(recorded_at=late)
    ConsentState.objects.filter(event=event).update(event_recorded_at=late)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the state still names its event
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    with caplog.at_level(logging.ERROR, logger="partners.partitions"):
        made = consent_event_partitions_maintain(today=FAR)

    assert made == [f"consent_consentevent_p2031_{month:02d}" for month in (2, 3, 4)]
    assert "partition not created: consent_consentevent_p2031_01" in caplog.text
    assert ConsentEvent.objects.get(pk=event.pk).recorded_at == late  # read as before
