"""Member bases in the alliance console: lists and forms that never decrypt, an audited "Show
personal data" for the roles allowed to see it, erasure, and uploads of member base files."""

import csv
import io
import re
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partners import services
from partners.actors import Actor
from partners.models import AuditEvent, MemberAccount, MemberImport, Partner
from partners.services.member_records import open_member
from tests.factories import make_member, make_partner, make_user

NAME = "Zephyrine Quimbleworth"
EMAIL = "zephyrine.quimble@example.test"
PHONE = "09087654321"
ADDRESS = "東京都千代田区霞が関9-9-9"


def _login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def manager_client(alliance_manager: User) -> Client:
    return _login(alliance_manager)


def _staff_without_role(username: str, *codenames: str) -> User:
    """A staff user an operator made by hand: model permissions, but no Sanpo role."""
    user = make_user(username)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return User.objects.get(pk=user.pk)  # no cached permissions


def _member(partner: Partner, number: str = "M-0001", **values: str) -> MemberAccount:
    """A member with every personal field the console shows."""
    personal = {"name": NAME, "email": EMAIL, "phone": PHONE, "address": ADDRESS}
    return make_member(partner, number, birth_date="1984-07-09", **{**personal, **values})


def _url(model: str, *parts: Any) -> str:
    return "/".join([f"/admin/partners/{model}", *map(str, parts), ""])


def _messages(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _views_of(member: MemberAccount) -> Any:
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.MEMBER_PERSONAL_DATA_VIEWED, object_id=str(member.pk)
    )


def _assert_no_personal_data(content: str) -> None:
    for value in (NAME, EMAIL, PHONE, "霞が関", "1984-07-09"):
        assert value not in content


# Asking whether a ciphertext is there (the "personal data stored" panel) reads no ciphertext.
_PRESENCE_ONLY = re.compile(r'"\w+_sealed" IS NOT NULL')


def _ciphertext_queries(queries: Any) -> list[str]:
    sqls = [_PRESENCE_ONLY.sub("", q["sql"]) for q in queries]
    return [sql for sql in sqls if "_sealed" in sql or "wrapped_key" in sql]


# --- who may do what --------------------------------------------------------------------------


def test_alliance_managers_manage_member_bases_but_never_delete(alliance_manager: User) -> None:
    for codename in ("view", "add", "change"):
        assert alliance_manager.has_perm(f"partners.{codename}_memberaccount")
        assert alliance_manager.has_perm(f"partners.{codename}_memberimport")
    assert alliance_manager.has_perm("partners.view_person")
    assert not alliance_manager.has_perm("partners.delete_memberaccount")
    assert not alliance_manager.has_perm("partners.change_person")


@pytest.mark.parametrize("persona", ["compliance_reviewer", "partner_admin", "partner_analyst"])
def test_other_staff_do_not_reach_the_member_admin(persona: str, request: Any) -> None:
    client = _login(request.getfixturevalue(persona))

    for path in (_url("memberaccount"), _url("memberimport"), _url("person")):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_members_cannot_be_deleted_in_the_admin(manager_client: Client, partner: Partner) -> None:
    member = _member(partner)

    response = manager_client.get(_url("memberaccount", member.pk, "delete"))

    assert response.status_code == 403
    assert MemberAccount.objects.filter(pk=member.pk).exists()


# --- the list and the change page never decrypt -----------------------------------------------


def test_the_changelist_shows_no_personal_data_and_reads_no_ciphertext(
    manager_client: Client, partner: Partner
) -> None:
    _member(partner, "M-0001")
    _member(partner, "M-0002", email="other.member@example.test", phone="09011112222")

    with CaptureQueriesContext(connection) as queries:
        response = manager_client.get(_url("memberaccount"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "M-0001" in content
    assert "M-0002" in content
    assert "13 東京都" in content  # the prefecture, derived from the address, is in clear
    _assert_no_personal_data(content)
    assert _ciphertext_queries(queries.captured_queries) == []


def test_the_changelist_searches_member_numbers_and_filters_segments(
    manager_client: Client, partner: Partner
) -> None:
    _member(partner, "M-0001")
    _member(partner, "B-0002", kind="business", address="大阪府大阪市北区1-1")

    by_number = manager_client.get(_url("memberaccount"), {"q": "b-0002"}).content.decode()
    by_name = manager_client.get(_url("memberaccount"), {"q": NAME}).content.decode()
    by_prefecture = manager_client.get(_url("memberaccount"), {"prefecture": "27"})

    assert "B-0002" in by_number
    assert "M-0001" not in by_number
    assert "M-0001" not in by_name  # personal data is encrypted: not searchable
    assert [m.member_number for m in by_prefecture.context["cl"].result_list] == ["B-0002"]


def test_the_change_page_shows_no_personal_data_until_asked(
    manager_client: Client, partner: Partner
) -> None:
    member = _member(partner)

    with CaptureQueriesContext(connection) as queries:
        response = manager_client.get(_url("memberaccount", member.pk, "change"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "M-0001" in content
    assert "Show personal data" in content
    _assert_no_personal_data(content)
    assert _ciphertext_queries(queries.captured_queries) == []
    assert not _views_of(member).exists()


# --- showing personal data --------------------------------------------------------------------


def test_an_alliance_manager_reveals_personal_data_and_the_view_is_audited(
    manager_client: Client, alliance_manager: User, partner: Partner
) -> None:
    member = _member(partner)
    url = _url("memberaccount", member.pk, "reveal")

    confirmation = manager_client.get(url)
    assert confirmation.status_code == 200
    _assert_no_personal_data(confirmation.content.decode())
    assert not _views_of(member).exists()  # asking is not viewing

    response = manager_client.post(url)

    assert response.status_code == 200
    content = response.content.decode()
    for value in (NAME, EMAIL, PHONE, "霞が関", "1984-07-09"):
        assert value in content
    assert "no-store" in response["Cache-Control"]
    (event,) = _views_of(member)
    assert event.actor_user == alliance_manager
    assert event.actor_label == "user alice-manager"
    assert event.partner == partner
    assert event.detail["purpose"] == "admin detail view"


def test_a_reveal_of_data_that_does_not_authenticate_is_refused_and_audited(
    manager_client: Client, alliance_manager: User, partner: Partner
) -> None:
    member = _member(partner)
    other = _member(partner, "M-0002", email="someone.else@example.test")
    MemberAccount.objects.filter(pk=member.pk).update(email_sealed=other.email_sealed)

    response = manager_client.post(_url("memberaccount", member.pk, "reveal"), follow=True)

    assert any("email ciphertext does not belong" in m for m in _messages(response))
    assert "someone.else" not in response.content.decode()
    assert not _views_of(member).exists()
    (event,) = AuditEvent.objects.filter(action=AuditEvent.Action.DATA_INTEGRITY_FAILED)
    assert (event.actor_user, event.object_id) == (alliance_manager, str(member.pk))


def test_staff_without_a_personal_data_role_get_403_and_nothing_is_audited(
    partner: Partner,
) -> None:
    member = _member(partner)
    viewer = _login(_staff_without_role("dave-staff", "view_memberaccount"))

    page = viewer.get(_url("memberaccount", member.pk, "change"))
    asked = viewer.get(_url("memberaccount", member.pk, "reveal"))
    revealed = viewer.post(_url("memberaccount", member.pk, "reveal"))

    assert page.status_code == 200
    assert "Show personal data" not in page.content.decode()
    assert asked.status_code == 403
    assert revealed.status_code == 403
    _assert_no_personal_data(revealed.content.decode())
    assert not _views_of(member).exists()


def test_staff_without_the_model_permission_cannot_reveal(partner: Partner) -> None:
    member = _member(partner)
    client = _login(_staff_without_role("erin-staff"))

    response = client.post(_url("memberaccount", member.pk, "reveal"))

    assert response.status_code == 403
    assert not _views_of(member).exists()


def test_a_compliance_reviewer_given_console_access_may_reveal(
    compliance_reviewer: User, partner: Partner
) -> None:
    # Reviewers work in /compliance/ and are not staff; the role itself allows personal data.
    member = _member(partner)
    compliance_reviewer.is_staff = True
    compliance_reviewer.save(update_fields=["is_staff"])
    compliance_reviewer.user_permissions.add(Permission.objects.get(codename="view_memberaccount"))

    response = _login(compliance_reviewer).post(_url("memberaccount", member.pk, "reveal"))

    assert response.status_code == 200
    assert EMAIL in response.content.decode()
    assert _views_of(member).get().actor_user == compliance_reviewer


# --- adding and editing -----------------------------------------------------------------------


def _form(partner: Partner, **values: str) -> dict[str, str]:
    return {
        "partner": str(partner.pk),
        "member_number": "A-100",
        "kind": "household",
        "status": "active",
        "name": NAME,
        "email": EMAIL,
        "phone": "090-8765-4321",
        "address": ADDRESS,
        "birth_date": "1984/07/09",
        **values,
    }


def test_adding_a_member_in_the_admin_seals_it_through_the_service(
    manager_client: Client, alliance_manager: User, partner: Partner
) -> None:
    response = manager_client.post(_url("memberaccount", "add"), _form(partner), follow=True)

    assert response.status_code == 200
    member = MemberAccount.objects.get(partner=partner, member_number="A-100")
    assert member.wrapped_key is not None
    assert member.email_sealed is not None
    assert member.name_sealed is not None
    assert EMAIL.encode() not in bytes(member.email_sealed)
    assert NAME.encode() not in bytes(member.name_sealed)
    assert open_member(member)["email"] == EMAIL
    assert open_member(member)["phone"] == PHONE  # normalised by the service
    assert member.birth_year == 1984
    assert member.prefecture == "13"
    assert member.person_id is not None
    event = AuditEvent.objects.get(action=AuditEvent.Action.MEMBER_CREATED)
    assert event.actor_user == alliance_manager


def test_an_invalid_email_is_a_form_error_not_a_server_error(
    manager_client: Client, partner: Partner
) -> None:
    response = manager_client.post(
        _url("memberaccount", "add"), _form(partner, email="not-an-email")
    )

    assert response.status_code == 200
    assert "not an e-mail address" in response.context["adminform"].form.errors["email"][0]
    assert not MemberAccount.objects.exists()


def test_a_taken_member_number_is_refused_without_a_server_error(
    manager_client: Client, partner: Partner
) -> None:
    _member(partner, "A-100")

    response = manager_client.post(_url("memberaccount", "add"), _form(partner), follow=True)

    assert response.status_code == 200
    assert MemberAccount.objects.filter(partner=partner).count() == 1
    content = response.content.decode()
    assert "already exists" in content


def test_editing_replaces_only_the_fields_typed_and_removes_the_ticked_ones(
    manager_client: Client, partner: Partner
) -> None:
    member = _member(partner)

    response = manager_client.post(
        _url("memberaccount", member.pk, "change"),
        {
            "kind": "household",
            "status": "inactive",
            "prefecture": "13",
            "email": "new.address@example.test",
            "clear": ["phone"],
        },
        follow=True,
    )

    assert response.status_code == 200
    member.refresh_from_db()
    personal = open_member(member)
    assert personal["email"] == "new.address@example.test"
    assert personal["phone"] is None
    assert personal["name"] == NAME  # blank: kept
    assert member.status == MemberAccount.Status.INACTIVE
    event = AuditEvent.objects.get(action=AuditEvent.Action.MEMBER_UPDATED)
    assert set(event.detail["fields"]) == {"email", "phone", "status"}


def test_an_invalid_value_when_editing_is_a_form_error(
    manager_client: Client, partner: Partner
) -> None:
    member = _member(partner)

    response = manager_client.post(
        _url("memberaccount", member.pk, "change"),
        {"kind": "household", "status": "active", "prefecture": "13", "phone": "12345"},
    )

    assert response.status_code == 200
    assert "phone" in response.context["adminform"].form.errors
    assert open_member(MemberAccount.objects.get(pk=member.pk))["phone"] == PHONE


# --- actions ----------------------------------------------------------------------------------


def _action(client: Client, action: str, *members: MemberAccount, **extra: str) -> Any:
    return client.post(
        _url("memberaccount"),
        {"action": action, "_selected_action": [str(m.pk) for m in members], **extra},
        follow=True,
    )


def test_the_deactivate_action(manager_client: Client, partner: Partner) -> None:
    member = _member(partner)

    response = _action(manager_client, "deactivate", member)

    assert _messages(response) == ["Deactivated 1 member account."]
    member.refresh_from_db()
    assert member.status == MemberAccount.Status.INACTIVE


def test_erasing_asks_first_then_destroys_the_data_key(
    manager_client: Client, partner: Partner
) -> None:
    member = _member(partner)

    asked = _action(manager_client, "erase", member)

    assert asked.status_code == 200
    assert "cannot be undone" in asked.content.decode()
    member.refresh_from_db()
    assert member.status == MemberAccount.Status.ACTIVE

    done = _action(manager_client, "erase", member, post="yes")

    assert _messages(done) == ["Erased the personal data of 1 member account."]
    member.refresh_from_db()
    assert member.status == MemberAccount.Status.ERASED
    assert member.wrapped_key is None
    assert member.email_sealed is None
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MEMBER_ERASED).count() == 1
    page = manager_client.get(_url("memberaccount", member.pk, "change"))
    assert page.status_code == 200
    assert "Show personal data" not in page.content.decode()
    reveal = manager_client.post(_url("memberaccount", member.pk, "reveal"), follow=True)
    assert "has been erased" in " ".join(_messages(reveal))
    assert not _views_of(member).exists()


# --- imports ----------------------------------------------------------------------------------

GOOD_CSV = (
    "member_number,kind,name,email,phone\n"
    "C-1,household,Ichiro Suzuki,ichiro@example.test,090-1111-2222\n"
    "C-2,business,Hanako Sato,hanako@example.test,\n"
)
BAD_CSV = (
    "member_number,kind,name,email\n"
    "C-1,household,Ichiro Suzuki,ichiro@example.test\n"
    "C-2,household,Hanako Sato,hanako-at-example\n"
)


def _upload(
    client: Client, partner: Partner, content: str, django_capture_on_commit_callbacks: Any
) -> MemberImport:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _url("memberimport", "add"),
            {
                "partner": str(partner.pk),
                "file": SimpleUploadedFile("members.csv", content.encode(), "text/csv"),
                "format": "",
                "encoding": "auto",
                "mode": "upsert",
            },
        )
    job = MemberImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url("memberimport", job.pk, "change")
    return job


@pytest.mark.usefixtures("eager_celery")
def test_uploading_a_file_in_the_admin_imports_it(
    manager_client: Client,
    alliance_manager: User,
    partner: Partner,
    django_capture_on_commit_callbacks: Any,
) -> None:
    job = _upload(manager_client, partner, GOOD_CSV, django_capture_on_commit_callbacks)

    job.refresh_from_db()
    assert job.status == MemberImport.Status.COMPLETED
    assert (job.rows_staged, job.rows_created, job.rows_updated, job.rows_invalid) == (2, 2, 0, 0)
    assert job.created_by == alliance_manager
    assert job.original_name == "members.csv"
    assert MemberAccount.objects.filter(partner=partner).count() == 2
    page = manager_client.get(_url("memberimport", job.pk, "change"))
    assert page.status_code == 200
    content = page.content.decode()
    assert 'http-equiv="refresh"' not in content  # finished: no more reloading
    assert '<progress max="100" value="100">' in content
    listing = manager_client.get(_url("memberimport")).content.decode()
    assert "members.csv" in listing
    assert "<progress" in listing


@pytest.mark.usefixtures("eager_celery")
def test_a_rejected_upload_offers_its_error_report_to_those_allowed_only(
    manager_client: Client, partner: Partner, django_capture_on_commit_callbacks: Any
) -> None:
    job = _upload(manager_client, partner, BAD_CSV, django_capture_on_commit_callbacks)

    job.refresh_from_db()
    assert job.status == MemberImport.Status.REJECTED
    assert (job.rows_invalid, job.rows_created) == (1, 0)
    assert not MemberAccount.objects.exists()
    errors_url = _url("memberimport", job.pk, "errors")
    assert errors_url in manager_client.get(_url("memberimport", job.pk, "change")).content.decode()

    response = manager_client.get(errors_url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="members-errors.csv"' in response["Content-Disposition"]
    report = response.getvalue().decode("utf-8-sig").splitlines()
    assert report[0] == "line,column,code,message"
    assert report[1].startswith("3,email,invalid_email,")

    for user in (
        _staff_without_role("frank-staff"),
        _staff_without_role("grace-staff", "view_memberimport"),
    ):
        assert _login(user).get(errors_url).status_code == 403


def test_an_import_of_a_partner_without_a_member_base_is_a_form_error(
    manager_client: Client,
) -> None:
    brand = make_partner("retail-only", holds_customer_data=False)

    response = manager_client.post(
        _url("memberimport", "add"),
        {
            "partner": str(brand.pk),
            "file": SimpleUploadedFile("members.csv", GOOD_CSV.encode(), "text/csv"),
            "encoding": "auto",
            "mode": "upsert",
        },
    )

    assert response.status_code == 200
    assert "partner" in response.context["adminform"].form.errors
    assert not MemberImport.objects.exists()


def _pending_job(partner: Partner, user: User) -> MemberImport:
    return services.member_import_create(
        partner=partner,
        upload=SimpleUploadedFile("big.csv", GOOD_CSV.encode()),
        original_name="big.csv",
        actor=Actor(user=user),
        enqueue=False,
    )


def test_the_progress_page_of_a_running_import_refreshes_itself(
    manager_client: Client, alliance_manager: User, partner: Partner
) -> None:
    job = _pending_job(partner, alliance_manager)
    MemberImport.objects.filter(pk=job.pk).update(
        status=MemberImport.Status.STAGING, bytes_done=job.file_size // 2, lines_done=2
    )

    response = manager_client.get(_url("memberimport", job.pk, "change"))

    assert response.status_code == 200
    content = response.content.decode()
    assert '<meta http-equiv="refresh" content="2">' in content
    assert f'<progress max="100" value="{job.file_size // 2 * 100 // job.file_size}">' in content
    assert "Reading and validating" in content


@pytest.mark.usefixtures("eager_celery")
def test_the_resume_action_runs_an_unfinished_import(
    manager_client: Client,
    alliance_manager: User,
    partner: Partner,
    django_capture_on_commit_callbacks: Any,
) -> None:
    job = _pending_job(partner, alliance_manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            _url("memberimport"),
            {"action": "resume", "_selected_action": [str(job.pk)]},
            follow=True,
        )

    assert _messages(response) == ["big.csv: resumed."]
    job.refresh_from_db()
    assert job.status == MemberImport.Status.COMPLETED
    assert job.rows_created == 2


def test_persons_are_listed_without_personal_data(manager_client: Client, partner: Partner) -> None:
    member = _member(partner)
    member.refresh_from_db()  # matching links the person in SQL

    response = manager_client.get(_url("person"))

    assert response.status_code == 200
    result = response.context["cl"].result_list
    assert [(p.pk, p.account_count) for p in result] == [(member.person_id, 1)]
    _assert_no_personal_data(response.content.decode())


@pytest.mark.usefixtures("eager_celery")
def test_the_resume_action_refuses_a_finished_import_and_one_still_running(
    manager_client: Client, alliance_manager: User, partner: Partner
) -> None:
    finished = _pending_job(partner, alliance_manager)
    MemberImport.objects.filter(pk=finished.pk).update(status=MemberImport.Status.COMPLETED)
    running = _pending_job(partner, alliance_manager)
    MemberImport.objects.filter(pk=running.pk).update(
        status=MemberImport.Status.STAGING, runner=uuid.uuid4(), heartbeat_at=timezone.now()
    )

    response = manager_client.post(
        _url("memberimport"),
        {"action": "resume", "_selected_action": [str(finished.pk), str(running.pk)]},
        follow=True,
    )

    messages = sorted(_messages(response))
    assert messages[0] == "big.csv: This import has finished: nothing to resume."
    assert messages[1].startswith("big.csv: This import is still running")
    running.refresh_from_db()
    assert running.status == MemberImport.Status.STAGING  # untouched


# --- search through the blind indexes ---------------------------------------------------------


def _listed(client: Client, query: str) -> str:
    return client.get(_url("memberaccount"), {"q": query}).content.decode()


def test_the_search_box_finds_a_member_by_email_through_its_blind_index(
    manager_client: Client, partner: Partner
) -> None:
    _member(partner, "M-0001")
    _member(partner, "M-0002", email="someone.else@example.test", phone="08000000001")

    with CaptureQueriesContext(connection) as queries:
        # Spelled as a person types it: capitals and full-width letters, normalised first.
        listing = _listed(manager_client, "  \uff3aephyrine.Quimble@EXAMPLE.test ")

    assert "M-0001" in listing
    assert "M-0002" not in listing
    assert _ciphertext_queries(queries.captured_queries) == []
    assert any("email_index" in q["sql"] for q in queries.captured_queries)


def test_the_search_box_finds_a_member_by_phone_in_any_spelling(
    manager_client: Client, partner: Partner
) -> None:
    _member(partner, "M-0001")
    _member(partner, "M-0002", email="someone.else@example.test", phone="08000000001")

    full_width = "\uff10\uff19\uff10\uff18\uff17\uff16\uff15\uff14\uff13\uff12\uff11"
    for spelling in ("090-8765-4321", "+81 90 8765 4321", full_width):
        listing = _listed(manager_client, spelling)
        assert "M-0001" in listing, spelling
        assert "M-0002" not in listing, spelling


def test_the_search_box_still_finds_member_numbers_and_nothing_by_name(
    manager_client: Client, partner: Partner
) -> None:
    _member(partner, "M-0001")
    _member(partner, "M-0002", email="someone.else@example.test", phone="08000000001")

    assert "M-0002" in _listed(manager_client, "m-0002")
    assert "M-0001" not in _listed(manager_client, "m-0002")
    assert "M-0001" not in _listed(manager_client, NAME)  # names are never searchable
    assert "M-0001" not in _listed(manager_client, "nobody@example.test")


# --- the member's page --------------------------------------------------------------------------


def _page(client: Client, member: MemberAccount) -> str:
    response = client.get(_url("memberaccount", member.pk, "change"))
    assert response.status_code == 200
    return response.content.decode()


def _panel(content: str, key: str) -> str:
    start = content.index(f'id="panel-{key}"')
    return content[start : content.index("</fieldset>", start)]


def test_the_member_page_says_which_personal_fields_are_stored_without_showing_them(
    manager_client: Client, partner: Partner
) -> None:
    member = make_member(partner, "M-0001", name=NAME, email=EMAIL)

    panel = _panel(_page(manager_client, member), "personal-fields")

    _assert_no_personal_data(panel)
    stored = re.findall(r'<th scope="row">([^<]+)</th><td class="(stored|not-stored)"', panel)
    assert dict(stored)["Name"] == "stored"
    assert dict(stored)["E-mail"] == "stored"
    assert dict(stored)["Phone"] == "not-stored"
    assert dict(stored)["Address"] == "not-stored"


def test_the_member_page_links_the_persons_accounts_at_other_companies(
    manager_client: Client, partner: Partner, outsider: Partner
) -> None:
    mine = _member(partner, "M-0001")
    theirs = _member(outsider, "O-0042")  # the same e-mail and phone: matched as one person
    stranger = _member(outsider, "O-0043", email="other@example.test", phone="08000000009")
    mine.refresh_from_db()
    assert mine.person_id is not None

    panel = _panel(_page(manager_client, mine), "other-accounts")

    assert _url("memberaccount", theirs.pk, "change") in panel
    assert "O-0042" in panel
    assert "O-0043" not in panel
    assert str(stranger.pk) not in panel
    assert _url("person", mine.person_id, "change") in panel
    _assert_no_personal_data(panel)


def test_the_member_page_shows_the_consent_panel_registered_by_consent(
    manager_client: Client, partner: Partner, outsider: Partner
) -> None:
    from tests.factories import grant_consent, make_notice

    member = _member(partner, "M-0001")
    make_notice(purposes=["overlap_matching"], recipients=[outsider], data_items=["email"])
    grant_consent(member, outsider, "overlap_matching")

    panel = _panel(_page(manager_client, member), "consents")

    assert "Outsider Co" in panel
    assert "consented" in panel


def test_a_member_without_consents_says_so(manager_client: Client, partner: Partner) -> None:
    panel = _panel(_page(manager_client, _member(partner, "M-0001")), "consents")

    assert "This member has given no consent and withdrawn none." in panel


def test_a_panel_is_registered_once() -> None:
    from partners.admin.member_panels import MEMBER_PANELS, register_member_panel

    with pytest.raises(ValueError, match="registered twice"):
        register_member_panel(MEMBER_PANELS["consents"])
    assert list(MEMBER_PANELS) == ["personal-fields", "other-accounts", "consents", "enrollments"]


# --- how an import's page reads -------------------------------------------------------------


@pytest.mark.usefixtures("eager_celery")
def test_a_rejected_import_looks_rejected_and_shows_its_first_errors(
    manager_client: Client, partner: Partner, django_capture_on_commit_callbacks: Any
) -> None:
    job = _upload(manager_client, partner, BAD_CSV, django_capture_on_commit_callbacks)

    page = manager_client.get(_url("memberimport", job.pk, "change")).content.decode()
    listing = manager_client.get(_url("memberimport")).content.decode()

    for content in (page, listing):
        assert "<progress" not in content  # not a full bar: nothing was imported
        assert '<span class="import-refused">Rejected</span>' in content
    errors = page[page.index('id="import-errors"') :]
    assert "<td>3</td><td>email</td><td>invalid_email</td>" in errors


@pytest.mark.usefixtures("eager_celery")
def test_a_rejected_imports_errors_are_hidden_from_those_who_may_not_see_personal_data(
    partner: Partner,
    alliance_manager: User,
    manager_client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    job = _upload(manager_client, partner, BAD_CSV, django_capture_on_commit_callbacks)
    viewer = _login(_staff_without_role("frank-staff", "view_memberimport"))

    page = viewer.get(_url("memberimport", job.pk, "change")).content.decode()

    errors = page[page.index('id="import-errors"') :]
    assert "1 row has an error." in errors
    assert "invalid_email" not in errors  # the rows, like the report, are not for them


@pytest.mark.usefixtures("eager_celery")
def test_a_completed_import_shows_no_failure_and_no_error_report(
    manager_client: Client, partner: Partner, django_capture_on_commit_callbacks: Any
) -> None:
    job = _upload(manager_client, partner, GOOD_CSV, django_capture_on_commit_callbacks)

    page = manager_client.get(_url("memberimport", job.pk, "change")).content.decode()

    assert "Failure:" not in page
    assert "Error report:" not in page
    assert 'id="import-errors"' not in page


@pytest.mark.usefixtures("eager_celery")
def test_the_error_report_neutralises_cells_a_spreadsheet_would_run(
    manager_client: Client, partner: Partner, django_capture_on_commit_callbacks: Any
) -> None:
    formula = "=HYPERLINK(1)@example.test"
    bad = f"member_number,kind,name,email\nC-1,household,Ichiro Suzuki,{formula}\n"
    job = _upload(manager_client, partner, bad, django_capture_on_commit_callbacks)
    # A report whose message starts with the value as uploaded, as a receiver's might.
    with job.errors.open("wb") as stored:
        stored.write(f'line,column,code,message\n2,email,invalid_email,"{formula}"\n'.encode())

    response = manager_client.get(_url("memberimport", job.pk, "errors"))

    rows = list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    assert rows[0] == ["line", "column", "code", "message"]
    assert rows[1] == ["2", "email", "invalid_email", "'" + formula]
