"""Mutual member enrollment: only under an active agreement, with the member's consent to
cross-enrollment and profile sharing, and only the fields both the agreement and the notice
allow; the target reads them under its own pseudonymous id, each read checked and recorded."""

import importlib
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError
from django.utils import timezone

from consent.errors import ConsentErrorCode
from consent.models import ProvisionRecord
from consent.services import consent_withdraw
from federation import services
from federation.agreements.selectors import terms_in_force
from federation.enrollment.services import batches as enrollment_services
from federation.errors import FederationErrorCode
from federation.models import Agreement, Enrollment, EnrollmentBatch
from federation.services import PartyInput
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import AuditEvent, MemberAccount, Partner, WebhookDelivery, WebhookEndpoint
from partners.pii import member_id_from_pseudonym
from tests.conftest import celery_worker
from tests.federation.conftest import (
    enrollment_member,
    grant_enrollment_consents,
)

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
TODAY = timezone.localdate()


def test_an_enrolled_member_reaches_the_target_with_only_the_allowed_fields(
    hanako: MemberAccount, partner: Partner
) -> None:
    enrollment = services.enrollment_request(
        member=hanako, target=partner, fields=None, actor=SYSTEM
    )

    # Agreed and noticed: name, e-mail, age band. The phone was agreed but never noticed.
    assert enrollment.fields == ["age_band", "email", "name"]
    (told,) = WebhookDelivery.objects.filter(event_type="enrollment.requested")
    assert told.endpoint.partner == partner
    assert member_id_from_pseudonym(told.payload["data"]["member"], partner.pk) == hanako.pk
    assert "K-1" not in str(told.payload)  # the host's number stays the host's
    assert "佐藤" not in str(told.payload)  # no personal data rests in the delivery log

    data = services.enrollment_member_data(enrollment=enrollment, actor=SYSTEM)

    assert data["fields"] == {"age_band": "40-49", "email": "k-1@example.jp", "name": "佐藤 花子"}
    assert member_id_from_pseudonym(data["member"], partner.pk) == hanako.pk
    (record,) = ProvisionRecord.objects.all()
    assert (record.recipient, record.member, record.data_items) == (
        partner,
        hanako,
        ["age_band", "email", "name"],
    )


def test_asking_for_a_field_the_agreement_does_not_allow_is_refused(
    hanako: MemberAccount, partner: Partner
) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.enrollment_request(
            member=hanako, target=partner, fields=["name", "address"], actor=SYSTEM
        )

    assert refused.value.code == ErrorCode.VALIDATION_FAILED
    assert "address" in refused.value.fields["fields"][0]
    assert not Enrollment.objects.exists()


@pytest.mark.parametrize("missing", ["cross_enrollment", "profile_sharing"])
def test_both_consents_are_needed(
    host: Partner, partner: Partner, agreement: Agreement, missing: str
) -> None:
    member = enrollment_member(host, "K-2")
    grant_enrollment_consents(
        member, partner, *({"cross_enrollment", "profile_sharing"} - {missing})
    )

    with pytest.raises(ApplicationError) as refused:
        services.enrollment_request(member=member, target=partner, fields=None, actor=SYSTEM)

    assert refused.value.code == ConsentErrorCode.CONSENT_REQUIRED
    assert missing in refused.value.message
    assert not Enrollment.objects.exists()
    assert not WebhookDelivery.objects.filter(event_type="enrollment.requested").exists()


def test_a_company_added_to_the_agreement_gets_no_member_without_a_consent_of_its_own(
    hanako: MemberAccount, host: Partner, partner: Partner, agreement: Agreement, outsider: Partner
) -> None:
    terms = dict(agreement.versions.get().terms)
    terms["data_flows"] = [
        *terms["data_flows"],
        {
            "provider": host.slug,
            "recipient": outsider.slug,
            "purpose": "cross_enrollment",
            "fields": ["name", "email"],
        },
    ]
    version = services.version_draft(
        agreement=agreement,
        parties=[
            PartyInput(who, "Contact", f"alliance@{who.slug}.example")
            for who in (host, partner, outsider)
        ],
        terms=terms,
        effective_from=TODAY,
        valid_until=TODAY + timedelta(days=365),
        actor=SYSTEM,
    )
    version = services.version_propose(version=version, actor=SYSTEM)
    for who in (host, partner, outsider):
        services.version_sign(version=version, partner=who, signed_by="CEO", actor=SYSTEM)
    assert terms_in_force(provider=host, recipient=outsider, purpose="cross_enrollment")

    # Hanako consented to the brand only; the amendment does not carry that over.
    with pytest.raises(ApplicationError) as refused:
        services.enrollment_request(member=hanako, target=outsider, fields=None, actor=SYSTEM)

    assert refused.value.code == ConsentErrorCode.CONSENT_REQUIRED
    assert not Enrollment.objects.filter(target=outsider).exists()
    assert services.enrollment_request(member=hanako, target=partner, fields=None, actor=SYSTEM)


def test_without_an_agreement_nothing_happens(
    host: Partner, partner: Partner, outsider: Partner
) -> None:
    member = enrollment_member(host, "K-3")
    grant_enrollment_consents(member, partner, "cross_enrollment", "profile_sharing")

    with pytest.raises(ApplicationError) as refused:
        services.enrollment_request(member=member, target=partner, fields=None, actor=SYSTEM)

    assert refused.value.code == FederationErrorCode.NO_AGREEMENT
    assert not Enrollment.objects.exists()


@pytest.mark.parametrize("how", ["suspended", "expired", "terminated"])
def test_an_agreement_that_is_not_in_force_stops_enrollment_and_reading(
    hanako: MemberAccount, partner: Partner, agreement: Agreement, how: str
) -> None:
    enrollment = services.enrollment_request(
        member=hanako, target=partner, fields=None, actor=SYSTEM
    )
    if how == "suspended":
        services.agreement_suspend(agreement=agreement, reason="Review", actor=SYSTEM)
    elif how == "terminated":
        services.agreement_terminate(agreement=agreement, reason="Ended", actor=SYSTEM)
    else:
        agreement.versions.update(
            valid_until=TODAY - timedelta(days=1), effective_from=TODAY - timedelta(days=30)
        )

    with pytest.raises(ApplicationError) as refused:
        services.enrollment_member_data(enrollment=enrollment, actor=SYSTEM)
    assert refused.value.code == FederationErrorCode.NO_AGREEMENT
    services.enrollment_end(enrollment=enrollment, reason="test", actor=SYSTEM)
    with pytest.raises(ApplicationError) as again:
        services.enrollment_request(member=hanako, target=partner, fields=None, actor=SYSTEM)
    assert again.value.code == FederationErrorCode.NO_AGREEMENT
    assert Enrollment.objects.count() == 1  # the ended one, and no new one
    assert not ProvisionRecord.objects.exists()


@pytest.mark.parametrize("withdrawn", ["profile_sharing", "cross_enrollment"])
def test_a_withdrawal_stops_the_sharing_at_once(
    hanako: MemberAccount, partner: Partner, withdrawn: str
) -> None:
    enrollment = services.enrollment_request(
        member=hanako, target=partner, fields=None, actor=SYSTEM
    )
    consent_withdraw(
        member=hanako,
        purpose_code=withdrawn,
        recipient=partner,
        channel="preference_page",
        occurred_at=timezone.now(),
        actor=SYSTEM,
    )

    with pytest.raises(ApplicationError) as refused:
        services.enrollment_member_data(enrollment=enrollment, actor=SYSTEM)

    assert refused.value.code == ConsentErrorCode.CONSENT_REQUIRED
    assert not ProvisionRecord.objects.exists()


def test_an_ended_enrollment_shares_nothing_more(hanako: MemberAccount, partner: Partner) -> None:
    enrollment = services.enrollment_request(
        member=hanako, target=partner, fields=None, actor=SYSTEM
    )
    services.enrollment_end(enrollment=enrollment, reason="member left", actor=SYSTEM)

    with pytest.raises(ApplicationError) as refused:
        services.enrollment_member_data(enrollment=enrollment, actor=SYSTEM)

    assert refused.value.code == ErrorCode.CONFLICT
    ended = WebhookDelivery.objects.filter(event_type="enrollment.ended")
    assert ended.count() == 2  # the source and the target


def test_confirming_needs_the_agreement_in_force(
    hanako: MemberAccount, partner: Partner, agreement: Agreement
) -> None:
    enrollment = services.enrollment_request(
        member=hanako, target=partner, fields=None, actor=SYSTEM
    )
    services.agreement_suspend(agreement=agreement, reason="Review", actor=SYSTEM)

    with pytest.raises(ApplicationError) as refused:
        services.enrollment_confirm(
            enrollment=enrollment, target_member_number="MF-1", actor=SYSTEM
        )

    assert refused.value.code == FederationErrorCode.NO_AGREEMENT
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.target_member_number) == ("active", "")
    assert not WebhookDelivery.objects.filter(event_type="enrollment.confirmed").exists()


def test_a_second_request_for_the_same_member_is_a_conflict(
    hanako: MemberAccount, partner: Partner
) -> None:
    services.enrollment_request(member=hanako, target=partner, fields=None, actor=SYSTEM)

    with pytest.raises(ApplicationError) as refused:
        services.enrollment_request(member=hanako, target=partner, fields=None, actor=SYSTEM)

    assert refused.value.code == ErrorCode.CONFLICT
    assert Enrollment.objects.count() == 1


def test_the_target_confirms_with_its_own_number_once(
    hanako: MemberAccount, host: Partner, partner: Partner
) -> None:
    enrollment = services.enrollment_request(
        member=hanako, target=partner, fields=None, actor=SYSTEM
    )

    services.enrollment_confirm(enrollment=enrollment, target_member_number="MF-9", actor=SYSTEM)
    again = services.enrollment_confirm(
        enrollment=enrollment, target_member_number="MF-9", actor=SYSTEM
    )
    with pytest.raises(ApplicationError) as refused:
        services.enrollment_confirm(
            enrollment=enrollment, target_member_number="MF-10", actor=SYSTEM
        )

    assert again.status == Enrollment.Status.CONFIRMED
    assert again.target_member_number == "MF-9"
    assert refused.value.code == ErrorCode.CONFLICT
    (told,) = WebhookDelivery.objects.filter(event_type="enrollment.confirmed")
    assert told.endpoint.partner == host


def test_a_batch_enrolls_only_consented_members_in_set_based_steps(
    host: Partner, partner: Partner, agreement: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("federation.enrollment.services.batches.BATCH_CHUNK", 3)
    consented = [enrollment_member(host, f"B-{n}") for n in range(7)]
    for member in consented:
        grant_enrollment_consents(member, partner, "cross_enrollment", "profile_sharing")
    only_one = enrollment_member(host, "B-X1")
    grant_enrollment_consents(only_one, partner, "cross_enrollment")
    enrollment_member(host, "B-X2")
    already = consented[0]
    services.enrollment_request(member=already, target=partner, fields=None, actor=SYSTEM)
    numbers = [m.member_number for m in consented] + ["B-X1", "B-X2", "NOBODY"]

    batch = services.enrollment_batch_start(
        source=host, target=partner, member_numbers=numbers, fields=["name"], actor=SYSTEM
    )
    batch = services.enrollment_batch_run(batch=batch)

    assert batch.status == EnrollmentBatch.Status.DONE
    assert (batch.total, batch.processed, batch.enrolled) == (10, 10, 6)
    enrolled = Enrollment.objects.filter(batch=batch)
    assert {e.member.member_number for e in enrolled} == {f"B-{n}" for n in range(1, 7)}
    assert all(e.fields == ["name"] for e in enrolled)
    assert Enrollment.objects.filter(member=already).count() == 1  # not enrolled twice
    (told,) = WebhookDelivery.objects.filter(event_type="enrollment.batch_completed")
    assert told.payload["data"]["enrolled"] == 6
    (finished,) = AuditEvent.objects.filter(action="enrollment.batch_finished")
    assert (finished.object_id, finished.partner) == (str(batch.pk), host)
    assert finished.detail["enrolled"] == 6
    # Running it again finds nothing left to do, and records nothing more.
    assert services.enrollment_batch_run(batch=batch).enrolled == 6
    assert AuditEvent.objects.filter(action="enrollment.batch_finished").count() == 1


@pytest.fixture
def purposes_catalogue(transactional_db: None) -> None:
    """A transactional test starts flushed when another ran before it, without the rows of the
    data migrations: put the purposes catalogue back as its migration does."""
    from django.apps import apps

    seed_purposes = importlib.import_module("consent.migrations.0002_seed_purposes").seed
    seed_purposes(apps, None)


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_queued_batch_from_the_broker(
    purposes_catalogue: None,
    host: Partner,
    partner: Partner,
    agreement: Agreement,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The worker is a thread of this process: it sees the smaller chunks and the test database.
    monkeypatch.setattr("federation.enrollment.services.batches.BATCH_CHUNK", 2)
    WebhookEndpoint.objects.all().delete()  # no deliveries left behind on the shared broker
    members = [enrollment_member(host, f"W-{n}") for n in range(5)]
    for member in members[:4]:
        grant_enrollment_consents(member, partner, "cross_enrollment", "profile_sharing")
    numbers = [member.member_number for member in members]

    with celery_worker():
        # Committed for real: the on-commit hook hands the task to the broker.
        batch = services.enrollment_batch_start(
            source=host, target=partner, member_numbers=numbers, fields=["name"], actor=SYSTEM
        )
        assert batch.status == EnrollmentBatch.Status.QUEUED
        deadline = time.monotonic() + 30
        while batch.status != EnrollmentBatch.Status.DONE and time.monotonic() < deadline:
            time.sleep(0.1)
            batch.refresh_from_db()

    assert batch.status == EnrollmentBatch.Status.DONE, f"not done within 30 s: {batch.status}"
    assert (batch.total, batch.processed, batch.enrolled) == (5, 5, 4)
    enrolled = Enrollment.objects.filter(batch=batch)
    assert sorted(e.member.member_number for e in enrolled) == ["W-0", "W-1", "W-2", "W-3"]


def _batch_of(host: Partner, partner: Partner, count: int) -> EnrollmentBatch:
    members = [enrollment_member(host, f"C-{n}") for n in range(count)]
    for member in members:
        grant_enrollment_consents(member, partner, "cross_enrollment", "profile_sharing")
    return services.enrollment_batch_start(
        source=host,
        target=partner,
        member_numbers=[member.member_number for member in members],
        fields=None,
        actor=SYSTEM,
    )


def _watch_chunks(
    monkeypatch: pytest.MonkeyPatch,
    *,
    before: Callable[[int], None] = lambda chunk: None,
    after: Callable[[int], None] = lambda chunk: None,
) -> list[int]:
    """Batches in chunks of two; calls ``before`` and ``after`` each chunk's insert (inside
    the chunk's transaction) with its number, and returns how many members each insert
    enrolled. It wraps the service's own chunk step, never the database layer."""
    monkeypatch.setattr("federation.enrollment.services.batches.BATCH_CHUNK", 2)
    real_insert = enrollment_services._insert_chunk
    inserts: list[int] = []

    def watched(batch: EnrollmentBatch, chunk: list[str], terms: Any) -> int:
        inserts.append(len(chunk))
        before(len(inserts))
        created = real_insert(batch, chunk, terms)
        after(len(inserts))
        return created

    monkeypatch.setattr(enrollment_services, "_insert_chunk", watched)
    return inserts


def test_a_suspension_stops_the_rest_of_a_running_batch(
    host: Partner, partner: Partner, agreement: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = _batch_of(host, partner, 5)

    def suspend_after_the_first(chunk: int) -> None:
        if chunk == 1:  # the alliance manager suspends while the first chunk commits
            services.agreement_suspend(agreement=agreement, reason="Review", actor=SYSTEM)

    inserts = _watch_chunks(monkeypatch, after=suspend_after_the_first)

    batch = services.enrollment_batch_run(batch=batch)

    assert batch.status == EnrollmentBatch.Status.FAILED
    assert "No active agreement" in batch.error
    assert (batch.processed, inserts) == (2, [2])
    assert Enrollment.objects.filter(batch=batch).count() == 2


def test_a_batch_that_stopped_midway_continues_where_it_stopped(
    host: Partner, partner: Partner, agreement: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = _batch_of(host, partner, 5)

    def lose_the_connection_in_the_second(chunk: int) -> None:
        if chunk == 2:
            raise OperationalError("server closed the connection unexpectedly")

    inserts = _watch_chunks(monkeypatch, before=lose_the_connection_in_the_second)
    with pytest.raises(OperationalError):
        services.enrollment_batch_run(batch=batch)
    batch.refresh_from_db()
    assert (batch.status, batch.processed, batch.enrolled) == ("running", 2, 2)

    batch = services.enrollment_batch_run(batch=batch)  # the task's retry

    assert (batch.status, batch.processed, batch.enrolled) == ("done", 5, 5)
    assert inserts == [2, 2, 2, 1]  # the failed chunk again, then the last
    assert Enrollment.objects.filter(batch=batch).count() == 5


def test_a_run_overtaken_by_another_run_of_the_same_batch_steps_back(
    host: Partner, partner: Partner, agreement: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = _batch_of(host, partner, 5)

    def another_run_got_further(chunk: int) -> None:
        EnrollmentBatch.objects.filter(pk=batch.pk).update(processed=4)

    _watch_chunks(monkeypatch, after=another_run_got_further)

    ran = services.enrollment_batch_run(batch=batch)

    # This run's chunk is rolled back with its progress; the batch is left to the other run.
    assert ran.status == EnrollmentBatch.Status.RUNNING
    assert not Enrollment.objects.filter(batch=batch).exists()
    assert not WebhookDelivery.objects.filter(event_type="enrollment.batch_completed").exists()


def test_a_batch_whose_task_gives_up_is_marked_failed(
    host: Partner, partner: Partner, agreement: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    from federation.tasks import run_enrollment_batch

    batch = _batch_of(host, partner, 1)

    def broken(*, batch: EnrollmentBatch) -> EnrollmentBatch:
        raise ValueError("a bug")

    monkeypatch.setattr("federation.enrollment.tasks.enrollment_batch_run", broken)
    # As a worker runs it: the failure is recorded, not raised to the caller.
    result = run_enrollment_batch.apply(args=(str(batch.pk),), throw=False)

    assert result.failed()

    batch.refresh_from_db()
    assert (batch.status, batch.error) == ("failed", "Stopped: ValueError.")
    assert batch.finished_at is not None
    (abandoned,) = AuditEvent.objects.filter(action="enrollment.batch_abandoned")
    assert abandoned.detail["error"] == "Stopped: ValueError."


def test_a_batch_under_no_agreement_fails_cleanly(
    host: Partner, partner: Partner, agreement: Agreement
) -> None:
    batch = services.enrollment_batch_start(
        source=host, target=partner, member_numbers=["K-1"], fields=None, actor=SYSTEM
    )
    services.agreement_suspend(agreement=agreement, reason="Review", actor=SYSTEM)

    batch = services.enrollment_batch_run(batch=batch)

    assert batch.status == EnrollmentBatch.Status.FAILED
    assert "No active agreement" in batch.error
    assert not Enrollment.objects.exists()


def test_every_enrollment_change_is_in_the_audit_log(
    hanako: MemberAccount, host: Partner, partner: Partner
) -> None:
    enrollment = services.enrollment_request(
        member=hanako, target=partner, fields=None, actor=SYSTEM
    )
    services.enrollment_confirm(enrollment=enrollment, target_member_number="MF-1", actor=SYSTEM)
    services.enrollment_end(enrollment=enrollment, reason="member left", actor=SYSTEM)

    logged = AuditEvent.objects.filter(object_id=str(enrollment.pk)).order_by("id")
    assert [(e.action, e.partner) for e in logged] == [
        ("enrollment.requested", host),
        ("enrollment.confirmed", partner),
        ("enrollment.ended", host),
    ]
