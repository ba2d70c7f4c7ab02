"""Overlap in the alliance console: managers alone read who may see counts of whom and the log
of questions; a level changes only through the service, which audits it; the log is read-only
and never shows a count."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from federation import services
from federation.models import Agreement, OverlapQuery, OverlapVisibility
from partners.actors import Actor
from partners.models import AuditEvent, Partner
from tests.factories import make_partner, make_user
from tests.federation.conftest import shared_people

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
VISIBILITY = "/admin/federation/overlapvisibility/"
QUESTIONS = "/admin/federation/overlapquery/"


def _login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def manager(alliance_manager: User) -> Client:
    return _login(alliance_manager)


@pytest.fixture
def asked(
    host: Partner, partner: Partner, alliance: Agreement, exact_overlap_counts: None
) -> OverlapQuery:
    shared_people(host, partner, 12)
    services.overlap_counts(asker=host, other=partner, breakdown="kind", actor=SYSTEM)
    return OverlapQuery.objects.get()


def test_the_pages_answer_alliance_managers_alone(
    asked: OverlapQuery, manager: Client, compliance_reviewer: User, partner_admin: User
) -> None:
    visibility = OverlapVisibility.objects.get()
    pages = [
        VISIBILITY,
        QUESTIONS,
        f"{VISIBILITY}{visibility.pk}/change/",
        f"{QUESTIONS}{asked.pk}/change/",
        f"{VISIBILITY}add/",
    ]
    staff_without_role = make_user("sam-staff")
    staff_without_role.is_staff = True
    staff_without_role.save()

    for page in pages:
        assert manager.get(page).status_code == 200, page
        assert Client().get(page).status_code == 302, page
        assert _login(compliance_reviewer).get(page).status_code == 302, page
        assert _login(partner_admin).get(page).status_code == 302, page
        assert _login(staff_without_role).get(page).status_code == 403, page


def test_changing_a_level_goes_through_the_service_and_audits(
    alliance: Agreement, host: Partner, partner: Partner, manager: Client, alliance_manager: User
) -> None:
    visibility = OverlapVisibility.objects.get()
    url = f"{VISIBILITY}{visibility.pk}/change/"

    answer = manager.post(url, {"level": "nothing", "owner": host.pk, "viewer": host.pk})

    assert answer.status_code == 302
    visibility.refresh_from_db()
    assert (visibility.owner, visibility.viewer, visibility.level) == (partner, host, "nothing")
    assert visibility.updated_by == f"user {alliance_manager.username}"
    event = AuditEvent.objects.filter(action="overlap.visibility_set").latest("occurred_at")
    assert event.detail["level"] == "nothing"
    assert event.actor_label == f"user {alliance_manager.username}"


def test_a_new_setting_is_added_through_the_service(
    host: Partner, partner: Partner, manager: Client
) -> None:
    answer = manager.post(
        f"{VISIBILITY}add/", {"owner": host.pk, "viewer": partner.pk, "level": "counts"}
    )

    assert answer.status_code == 302
    assert OverlapVisibility.objects.get(owner=host).level == "counts"
    assert AuditEvent.objects.filter(action="overlap.visibility_set").count() == 1


def test_a_company_cannot_be_set_to_see_itself(host: Partner, manager: Client) -> None:
    answer = manager.post(
        f"{VISIBILITY}add/", {"owner": host.pk, "viewer": host.pk, "level": "counts"}
    )

    assert answer.status_code in (200, 302)
    assert not OverlapVisibility.objects.exists()
    assert not AuditEvent.objects.filter(action="overlap.visibility_set").exists()


def test_the_list_actions_set_levels_through_the_service(
    alliance: Agreement, manager: Client
) -> None:
    visibility = OverlapVisibility.objects.get()
    before = AuditEvent.objects.filter(action="overlap.visibility_set").count()

    manager.post(VISIBILITY, {"action": "allow_nothing", "_selected_action": [visibility.pk]})

    visibility.refresh_from_db()
    assert visibility.level == "nothing"
    assert AuditEvent.objects.filter(action="overlap.visibility_set").count() == before + 1


def test_the_question_log_is_read_only(asked: OverlapQuery, manager: Client) -> None:
    url = f"{QUESTIONS}{asked.pk}/"

    assert manager.post(url + "change/", {"cells": "0"}).status_code == 403
    assert manager.post(url + "delete/", {"post": "yes"}).status_code == 403
    assert manager.get(f"{QUESTIONS}add/").status_code == 403
    assert OverlapQuery.objects.get().cells == asked.cells


def test_the_lists_filter_and_search(
    asked: OverlapQuery, host: Partner, partner: Partner, manager: Client
) -> None:
    other = make_partner("third-co")
    services.overlap_visibility_set(owner=other, viewer=host, level="counts", actor=SYSTEM)

    def listed(base: str, **query: Any) -> list[Any]:
        page = manager.get(base, query)
        assert page.status_code == 200
        return [row.pk for row in page.context["cl"].result_list]

    assert len(listed(VISIBILITY)) == 2
    assert len(listed(VISIBILITY, owner="third-co")) == 1
    assert len(listed(VISIBILITY, q="third-co")) == 1
    assert len(listed(VISIBILITY, viewer=partner.slug)) == 0
    assert listed(QUESTIONS) == [asked.pk]
    assert listed(QUESTIONS, asker=host.slug) == [asked.pk]
    assert listed(QUESTIONS, asker=partner.slug) == []
    assert listed(QUESTIONS, breakdown__exact="kind") == [asked.pk]
    assert listed(QUESTIONS, breakdown__exact="prefecture") == []
    assert listed(QUESTIONS, q="brand-co") == [asked.pk]
    assert listed(QUESTIONS, q="nobody-co") == []


def test_each_list_names_its_csv_columns() -> None:
    from django.contrib import admin

    for model in (OverlapVisibility, OverlapQuery):
        assert admin.site._registry[model].csv_fields  # type: ignore[attr-defined]
