"""Enrollments and campaigns in the alliance console: alliance managers alone read them, filter
and search them, and see why each number of a batch was or was not enrolled; nothing personal
is shown and nothing can be changed there."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from federation import services
from federation.models import Agreement, Enrollment, EnrollmentBatch
from partners.actors import Actor
from partners.models import MemberAccount, Partner
from partners.pii import pseudonym_for
from partners.services import member_deactivate
from tests.factories import make_user
from tests.federation.conftest import MEMBER_NAME, enrollment_member, grant_enrollment_consents

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
ENROLLMENTS = "/admin/federation/enrollment/"
BATCHES = "/admin/federation/enrollmentbatch/"


def _login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def manager(alliance_manager: User) -> Client:
    return _login(alliance_manager)


@pytest.fixture
def batch(host: Partner, partner: Partner, agreement: Agreement) -> EnrollmentBatch:
    """A campaign of six numbers, run: one enrolled, and one of each reason not to be."""
    both = enrollment_member(host, "C-1")
    grant_enrollment_consents(both, partner, "cross_enrollment", "profile_sharing")
    only_one = enrollment_member(host, "C-2")
    grant_enrollment_consents(only_one, partner, "cross_enrollment")
    enrollment_member(host, "C-3")
    gone = enrollment_member(host, "C-4")
    grant_enrollment_consents(gone, partner, "cross_enrollment", "profile_sharing")
    member_deactivate(member=gone, actor=SYSTEM)
    before = enrollment_member(host, "C-5")
    grant_enrollment_consents(before, partner, "cross_enrollment", "profile_sharing")
    services.enrollment_request(member=before, target=partner, fields=None, actor=SYSTEM)
    started = services.enrollment_batch_start(
        source=host,
        target=partner,
        member_numbers=["C-1", "C-2", "C-3", "C-4", "C-5", "NOBODY"],
        fields=["name"],
        actor=SYSTEM,
    )
    return services.enrollment_batch_run(batch=started)


def _url(base: str, obj: Any) -> str:
    return f"{base}{obj.pk}/change/"


def test_the_pages_answer_alliance_managers_alone(
    batch: EnrollmentBatch,
    manager: Client,
    compliance_reviewer: User,
    partner_admin: User,
    host_admin: User,
) -> None:
    enrollment = Enrollment.objects.filter(batch=batch).get()
    pages = [ENROLLMENTS, BATCHES, _url(ENROLLMENTS, enrollment), _url(BATCHES, batch)]
    staff_without_role = make_user("sam-staff")
    staff_without_role.is_staff = True
    staff_without_role.save()

    for page in pages:
        assert manager.get(page).status_code == 200, page
        assert Client().get(page).status_code == 302, page
        for user in (compliance_reviewer, partner_admin, host_admin):
            assert _login(user).get(page).status_code == 302, (page, user)
        assert _login(staff_without_role).get(page).status_code == 403, page


def test_nothing_can_be_added_changed_or_deleted(batch: EnrollmentBatch, manager: Client) -> None:
    enrollment = Enrollment.objects.filter(batch=batch).get()

    assert manager.get(f"{ENROLLMENTS}add/").status_code == 403
    assert manager.post(f"{ENROLLMENTS}{enrollment.pk}/delete/", {"post": "yes"}).status_code == 403
    assert manager.post(_url(ENROLLMENTS, enrollment), {"status": "ended"}).status_code == 403
    assert manager.post(f"{BATCHES}{batch.pk}/delete/", {"post": "yes"}).status_code == 403
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


def test_the_batch_page_says_why_each_number_was_or_was_not_enrolled(
    batch: EnrollmentBatch, manager: Client
) -> None:
    page = manager.get(_url(BATCHES, batch))

    rows = {row["member_number"]: row for row in page.context["outcome_rows"]}
    assert {number: [code for code, _label in row["reasons"]] for number, row in rows.items()} == {
        "C-1": ["enrolled"],
        "C-2": ["no_consent_profile_sharing"],
        "C-3": ["no_consent_cross_enrollment", "no_consent_profile_sharing"],
        # A deactivated member's consents lapse with the account.
        "C-4": ["not_active", "no_consent_cross_enrollment", "no_consent_profile_sharing"],
        "C-5": ["already_enrolled"],
        "NOBODY": ["unknown_number"],
    }
    text = page.content.decode()
    assert "The member has not consented to profile sharing with the target" in text
    assert "The source has no member with this number" in text


def test_the_batch_page_gives_the_reasons_in_japanese(
    batch: EnrollmentBatch, manager: Client
) -> None:
    text = manager.get(_url(BATCHES, batch), HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    assert "この番号の会員は提供元にいません" in text
    assert "既に提供先のプログラムに相互入会しています" in text


def test_numbers_a_stopped_batch_never_reached_say_so(
    host: Partner, partner: Partner, agreement: Agreement, manager: Client
) -> None:
    started = services.enrollment_batch_start(
        source=host, target=partner, member_numbers=["Q-1", "Q-2"], fields=None, actor=SYSTEM
    )
    queued = manager.get(_url(BATCHES, started)).context["outcome_rows"]
    services.enrollment_batch_abandon(batch_id=started.pk, error="gave up")
    stopped = manager.get(_url(BATCHES, started)).context["outcome_rows"]

    assert [row["reasons"][0][0] for row in queued] == ["pending", "pending"]
    assert [row["reasons"][0][0] for row in stopped] == ["not_reached", "not_reached"]


def test_the_outcomes_are_paged(
    host: Partner, partner: Partner, agreement: Agreement, manager: Client
) -> None:
    numbers = [f"P-{n:03d}" for n in range(130)]
    started = services.enrollment_batch_start(
        source=host, target=partner, member_numbers=numbers, fields=None, actor=SYSTEM
    )

    first = manager.get(_url(BATCHES, started)).context["outcome_rows"]
    second = manager.get(_url(BATCHES, started) + "?outcomes=2").context["outcome_rows"]

    assert [row["position"] for row in first] == list(range(1, 101))
    assert [row["member_number"] for row in second] == numbers[100:]


def test_the_enrollment_list_filters_and_searches(
    batch: EnrollmentBatch, host: Partner, partner: Partner, manager: Client
) -> None:
    single = Enrollment.objects.get(member__member_number="C-5")
    from_batch = Enrollment.objects.get(batch=batch)

    def listed(**query: Any) -> set[str]:
        page = manager.get(ENROLLMENTS, query)
        assert page.status_code == 200
        return {e.member.member_number for e in page.context["cl"].result_list}

    assert listed() == {"C-1", "C-5"}
    assert listed(q="C-5") == {"C-5"}
    assert listed(q=str(batch.pk)) == {"C-1"}
    assert listed(q=str(single.pk)) == {"C-5"}
    assert listed(q=pseudonym_for(from_batch.member_id, partner.pk)) == {"C-1"}
    assert listed(q=pseudonym_for(from_batch.member_id, host.pk)) == set()
    assert listed(status__exact="active") == {"C-1", "C-5"}
    assert listed(status__exact="ended") == set()
    assert listed(source=host.slug) == {"C-1", "C-5"}
    assert listed(target=host.slug) == set()
    assert listed(agreement=str(single.agreement_id)) == {"C-1", "C-5"}


def test_the_batch_list_filters_and_searches(
    batch: EnrollmentBatch, host: Partner, partner: Partner, manager: Client
) -> None:
    def listed(**query: Any) -> list[Any]:
        page = manager.get(BATCHES, query)
        assert page.status_code == 200
        return [b.pk for b in page.context["cl"].result_list]

    assert listed() == [batch.pk]
    assert listed(q=str(batch.pk)) == [batch.pk]
    assert listed(q="00000000-0000-0000-0000-000000000000") == []
    assert listed(status__exact="done") == [batch.pk]
    assert listed(status__exact="failed") == []
    assert listed(target=host.slug) == []


def test_no_personal_data_is_shown(batch: EnrollmentBatch, manager: Client) -> None:
    enrollment = Enrollment.objects.filter(batch=batch).get()
    member: MemberAccount = enrollment.member

    for page in (ENROLLMENTS, BATCHES, _url(ENROLLMENTS, enrollment), _url(BATCHES, batch)):
        text = manager.get(page).content.decode()
        assert MEMBER_NAME not in text
        assert "c-1@example.jp" not in text.lower()
        assert "09011112222" not in text
    assert member.member_number in manager.get(ENROLLMENTS).content.decode()


def test_each_list_names_its_csv_columns() -> None:
    from django.contrib import admin

    for model in (Enrollment, EnrollmentBatch):
        columns = admin.site._registry[model].csv_fields  # type: ignore[attr-defined]
        assert "id" in columns
        assert not any("sealed" in column or "member_numbers" in column for column in columns)


def test_the_batch_page_reads_the_same_number_of_queries_for_any_page_size(
    host: Partner, partner: Partner, agreement: Agreement, manager: Client
) -> None:
    def queries_for(count: int) -> int:
        numbers = [f"N{count}-{n}" for n in range(count)]
        for number in numbers:
            member = enrollment_member(host, number)
            grant_enrollment_consents(member, partner, "cross_enrollment", "profile_sharing")
        started = services.enrollment_batch_start(
            source=host, target=partner, member_numbers=numbers, fields=None, actor=SYSTEM
        )
        batch = services.enrollment_batch_run(batch=started)
        with CaptureQueriesContext(connection) as queries:
            assert manager.get(_url(BATCHES, batch)).status_code == 200
        return len(queries)

    assert queries_for(2) == queries_for(12)


def test_an_enrollment_page_names_it_in_the_readers_language(
    batch: EnrollmentBatch, manager: Client
) -> None:
    enrollment = Enrollment.objects.filter(batch=batch).get()

    text = manager.get(_url(ENROLLMENTS, enrollment), HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    assert "brand-co株式会社のプログラムへのC-1の相互入会" in text
    assert f'href="{_url(BATCHES, batch)}"' in text
