"""Agreements in the alliance console: alliance managers draft terms through the services,
propose them, record signatures given on paper, suspend, resume and terminate; they see the
versions and signatures side by side and the changes between two versions. Nobody else gets
in, nothing is deleted, and a GET changes nothing."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.services import consent_grant
from federation import services
from federation.models import Agreement, AgreementParty, AgreementVersion, Enrollment
from partners import services as partner_services
from partners.actors import Actor
from partners.models import Partner, StaffRole
from partners.services import member_create
from tests.factories import make_agreement, make_notice, make_parties, make_user

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
TODAY = timezone.localdate()
LIST = "/admin/federation/agreement/"
ADD = LIST + "add/"
PARTY_FIELDS = ("partner", "contact_name", "contact_email")


def _url(agreement: Agreement, *parts: Any) -> str:
    return "/".join([f"{LIST}{agreement.pk}", *map(str, parts), ""])


def _login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def manager_client(alliance_manager: User) -> Client:
    return _login(alliance_manager)


def _terms(host: Partner, brand: Partner, fields: tuple[str, ...] = ("name", "email")) -> Any:
    return {
        "data_flows": [
            {
                "provider": host.slug,
                "recipient": brand.slug,
                "purpose": "cross_enrollment",
                "fields": list(fields),
                "legal_basis": "consent",
            }
        ],
        "coin": {"exchange": False, "programs": {}},
        "referral": {"fee_yen": "500", "fee_percent": None, "attribution_days": 30},
        "overlap": {"min_cell": 50},
    }


def _agreement(
    host: Partner, brand: Partner, *, title: str = "Host and Brand", state: str = "draft"
) -> Agreement:
    """An agreement made through the services, as far as ``state``: draft, proposed, active."""
    return make_agreement(host, brand, title=title, state=state, terms=_terms(host, brand))


def _form(host: Partner, brand: Partner, **changes: Any) -> dict[str, Any]:
    """The terms form as a browser posts it: the version's fields and three party rows."""
    rows = [
        (host, "Hana Host", "hana@host-co.example"),
        (brand, "Ben Brand", "ben@brand-co.example"),
        (None, "", ""),
    ]
    data: dict[str, Any] = {
        "title": "Host and Brand co-marketing",
        "host": str(host.pk),
        "effective_from": TODAY.isoformat(),
        "valid_until": (TODAY + timedelta(days=365)).isoformat(),
        "summary": "First terms.",
        "terms": json.dumps(_terms(host, brand)),
        "parties-TOTAL_FORMS": str(len(rows)),
        "parties-INITIAL_FORMS": "0",
        "parties-MIN_NUM_FORMS": "0",
        "parties-MAX_NUM_FORMS": "1000",
    }
    for index, (partner, name, email) in enumerate(rows):
        data[f"parties-{index}-partner"] = str(partner.pk) if partner else ""
        data[f"parties-{index}-contact_name"] = name
        data[f"parties-{index}-contact_email"] = email
    data.update(changes)
    return data


def _messages(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _act(client: Client, agreement: Agreement, action: str, **data: Any) -> Any:
    return client.post(_url(agreement, "act", action), data, follow=True)


def _snapshot(agreement: Agreement) -> Any:
    agreement.refresh_from_db()
    versions = list(agreement.versions.order_by("number").values_list("number", "status"))
    signatures = list(
        AgreementParty.objects.filter(version__agreement=agreement)
        .order_by("pk")
        .values_list("pk", "signed_at", "signed_by")
    )
    return agreement.status, agreement.status_reason, versions, signatures


# --- terms through the form -------------------------------------------------------------------


def test_the_add_form_starts_from_an_example_terms_document(
    manager_client: Client, host: Partner
) -> None:
    response = manager_client.get(ADD)

    assert response.status_code == 200
    terms = json.loads(response.context["form"].initial["terms"])
    assert terms["data_flows"][0]["provider"] == host.slug
    assert set(terms) == {"data_flows", "coin", "referral", "overlap"}
    assert response.context["formset"].initial == [{"partner": host}]


def test_a_manager_creates_an_agreement_with_its_terms(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    response = manager_client.post(ADD, _form(host, partner))

    agreement = Agreement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url(agreement, "change")
    assert (agreement.title, agreement.host, agreement.status) == (
        "Host and Brand co-marketing",
        host,
        Agreement.Status.DRAFT,
    )
    version = agreement.versions.get()
    assert (version.number, version.status, version.summary) == (1, "draft", "First terms.")
    assert version.created_by == "user alice-manager"
    assert version.terms["data_flows"][0]["fields"] == ["email", "name"]
    contacts = {p.partner.slug: (p.contact_name, p.contact_email) for p in version.parties.all()}
    assert contacts == {
        host.slug: ("Hana Host", "hana@host-co.example"),
        partner.slug: ("Ben Brand", "ben@brand-co.example"),
    }


def test_bad_terms_are_shown_by_their_path_and_nothing_is_written(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    terms = _terms(host, partner, fields=("name", "shoe_size"))

    response = manager_client.post(ADD, _form(host, partner, terms=json.dumps(terms)))

    assert response.status_code == 200
    assert (
        "data_flows[0].fields: Unknown fields: shoe_size."
        in response.context["form"].errors["terms"]
    )
    content = response.content.decode()
    assert "Nothing has been saved" in content
    assert "data_flows[0].fields: Unknown fields: shoe_size." in content
    assert not Agreement.objects.exists()
    assert not AgreementVersion.objects.exists()


def test_json_that_does_not_parse_and_a_missing_host_are_form_errors(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    not_json = manager_client.post(ADD, _form(host, partner, terms="{'data_flows': ["))
    no_host_party = manager_client.post(
        ADD, _form(host, partner, **{f"parties-0-{name}": "" for name in PARTY_FIELDS})
    )
    half_row = manager_client.post(ADD, _form(host, partner, **{"parties-0-partner": ""}))

    assert "This is not valid JSON" in not_json.context["form"].errors["terms"][0]
    # The service's check of the parties, shown above the party rows.
    assert "The host is a party to every agreement." in no_host_party.context["party_errors"]
    assert "The host is a party to every agreement." in no_host_party.content.decode()
    assert half_row.context["formset"].errors[0] == {
        "partner": ["Choose the company of this contact."]
    }
    assert not Agreement.objects.exists()


def test_terms_nested_past_the_parser_limit_are_a_form_error(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    deep = manager_client.post(ADD, _form(host, partner, terms="[" * 5000 + "]" * 5000))

    assert "32 levels" in deep.context["form"].errors["terms"][0]
    assert not Agreement.objects.exists()


def test_the_lifecycle_through_the_console(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    manager_client.post(ADD, _form(host, partner))
    agreement = Agreement.objects.get()

    # Edit the draft: its form starts from the draft, and saving calls version_update.
    edit = manager_client.get(_url(agreement, "versions", 1, "edit"))
    assert json.loads(edit.context["form"].initial["terms"])["data_flows"][0]["fields"] == [
        "email",
        "name",
    ]
    changed = _terms(host, partner, fields=("name", "email", "age_band"))
    response = manager_client.post(
        _url(agreement, "versions", 1, "edit"),
        _form(host, partner, terms=json.dumps(changed), summary="Age band too."),
    )
    assert response.status_code == 302
    version = agreement.versions.get()
    assert version.summary == "Age band too."
    assert version.terms["data_flows"][0]["fields"] == ["age_band", "email", "name"]

    # Propose, then record both signatures given on paper.
    response = _act(manager_client, agreement, "propose", version=1)
    assert "v1 is proposed" in " ".join(_messages(response))
    version.refresh_from_db()
    assert version.status == AgreementVersion.Status.PROPOSED
    page = manager_client.get(_url(agreement, "change")).content.decode()
    assert "Record the signature" in page

    _act(
        manager_client,
        agreement,
        "sign",
        version=1,
        partner=host.pk,
        signed_by="Hana Host, CEO",
        how="on paper",
    )
    listed = manager_client.get(LIST).content.decode()
    assert "v1: 1 of 2 signed" in listed
    response = _act(
        manager_client,
        agreement,
        "sign",
        version=1,
        partner=partner.pk,
        signed_by="Ben Brand",
        how="in person",
    )

    assert "Every party has signed v1." in " ".join(_messages(response))
    agreement.refresh_from_db()
    version.refresh_from_db()
    assert agreement.status == Agreement.Status.ACTIVE
    assert version.status == AgreementVersion.Status.SIGNED
    signed_by = dict(version.parties.values_list("partner__slug", "signed_by"))
    assert signed_by == {
        host.slug: "Hana Host, CEO, on paper (recorded by user alice-manager)",
        partner.slug: "Ben Brand, in person (recorded by user alice-manager)",
    }
    assert f"v1, until {version.valid_until:%Y-%m-%d}" in manager_client.get(LIST).content.decode()

    # A signed version is read-only: its edit page sends back to the agreement.
    response = manager_client.get(_url(agreement, "versions", 1, "edit"), follow=True)
    assert "only a draft can be changed" in " ".join(_messages(response))

    # Suspending needs a reason.
    response = _act(manager_client, agreement, "suspend", reason="  ")
    assert "reason: Give the reason" in " ".join(_messages(response))
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.ACTIVE

    _act(manager_client, agreement, "suspend", reason="Complaint under review")
    agreement.refresh_from_db()
    assert (agreement.status, agreement.status_reason) == ("suspended", "Complaint under review")
    assert (
        "Complaint under review" in manager_client.get(_url(agreement, "change")).content.decode()
    )

    _act(manager_client, agreement, "resume")
    agreement.refresh_from_db()
    assert (agreement.status, agreement.status_reason) == ("active", "")


def test_a_new_version_starts_from_the_latest_terms_andmake_parties(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    agreement = _agreement(host, partner, state="active")

    page = manager_client.get(_url(agreement, "versions", "new"))

    assert page.status_code == 200
    assert json.loads(page.context["form"].initial["terms"]) == agreement.versions.get().terms
    assert [row["contact_name"] for row in page.context["formset"].initial] == [
        f"Contact of {host.slug}",
        f"Contact of {partner.slug}",
    ]
    response = manager_client.post(_url(agreement, "versions", "new"), _form(host, partner))
    assert response.status_code == 302
    assert agreement.versions.get(number=2).status == AgreementVersion.Status.DRAFT


def test_an_amendment_dated_in_the_past_is_a_form_error_and_nothing_is_written(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    agreement = _agreement(host, partner, state="active")
    yesterday = (TODAY - timedelta(days=1)).isoformat()

    response = manager_client.post(
        _url(agreement, "versions", "new"), _form(host, partner, effective_from=yesterday)
    )

    assert response.status_code == 200
    assert response.context["form"].errors["effective_from"] == [
        "Terms cannot take effect in the past; pick today or later."
    ]
    assert agreement.versions.count() == 1


def test_withdraw_and_terminate(manager_client: Client, host: Partner, partner: Partner) -> None:
    agreement = _agreement(host, partner, state="proposed")

    _act(manager_client, agreement, "withdraw", version=1)
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.DRAFT
    assert agreement.versions.get().status == AgreementVersion.Status.WITHDRAWN

    _act(manager_client, agreement, "terminate", reason="The partner left the alliance")
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.TERMINATED
    page = manager_client.get(_url(agreement, "change")).content.decode()
    assert "Draft a new version" not in page
    assert "nothing more can be done" in page


def test_a_refused_action_is_a_message_not_a_server_error(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    agreement = _agreement(host, partner, state="active")
    before = _snapshot(agreement)

    resume = _act(manager_client, agreement, "resume")
    propose = _act(manager_client, agreement, "propose", version=7)
    odd_digit = _act(manager_client, agreement, "propose", version="²")
    sign = _act(manager_client, agreement, "sign", version=1, partner="x", how="on paper")

    assert resume.status_code == propose.status_code == sign.status_code == 200
    assert "cannot become active" in " ".join(_messages(resume))
    assert "No such version." in _messages(propose)
    assert "No such version." in _messages(odd_digit)
    assert "Choose the party that signed." in _messages(sign)
    assert _snapshot(agreement) == before


# --- the agreement's page and the diff --------------------------------------------------------


def test_versions_and_signatures_side_by_side_and_their_diff(
    manager_client: Client, host: Partner, partner: Partner, outsider: Partner
) -> None:
    agreement = _agreement(host, partner, state="active")
    services.version_draft(
        agreement=agreement,
        parties=make_parties(host, partner, outsider),
        terms=_terms(host, partner, fields=("name", "email", "phone")),
        effective_from=TODAY,
        valid_until=TODAY + timedelta(days=365),
        summary="Phone too; Outsider joins.",
        actor=SYSTEM,
    )

    page = manager_client.get(_url(agreement, "change"))

    assert page.status_code == 200
    columns, rows = page.context["columns"], page.context["rows"]
    assert [column.version.number for column in columns] == [1, 2]
    cells = {p.slug: [cell.state for cell in row] for p, row in rows}
    assert cells == {
        host.slug: ["signed", "not proposed yet"],
        outsider.slug: ["not a party", "not proposed yet"],
        partner.slug: ["signed", "not proposed yet"],
    }
    content = page.content.decode()
    assert "Signatory (recorded by system)" in content
    assert "diff/?old=1&amp;new=2" in content

    diff = manager_client.get(_url(agreement, "diff"), {"old": 1, "new": 2})

    assert diff.status_code == 200
    changes = {path: (old, new) for path, old, new in diff.context["rows"]}
    flow = f"terms.data_flows.{host.slug}→{partner.slug}:cross_enrollment.fields"
    assert changes[flow] == ('["email", "name"]', '["email", "name", "phone"]')
    contact = f"Contact of {outsider.slug} <alliance@{outsider.slug}.example>"
    assert changes[f"parties.{outsider.slug}"] == ("—", json.dumps({"contact": contact}))
    assert flow in diff.content.decode()
    assert manager_client.get(_url(agreement, "diff"), {"old": 9, "new": 2}).status_code == 404
    assert manager_client.get(_url(agreement, "diff"), {"old": "1", "new": "²"}).status_code == 404


# --- the list ---------------------------------------------------------------------------------


def test_the_list_filters_by_status_and_party(
    manager_client: Client, host: Partner, partner: Partner, outsider: Partner
) -> None:
    active = _agreement(host, partner, title="With Brand", state="active")
    draft = _agreement(host, outsider, title="With Outsider")

    def titles(**params: Any) -> set[str]:
        response = manager_client.get(LIST, params)
        assert response.status_code == 200
        return {agreement.title for agreement in response.context["cl"].result_list}

    assert titles() == {active.title, draft.title}
    assert titles(status="active") == {active.title}
    assert titles(status="draft") == {draft.title}
    assert titles(party=str(outsider.pk)) == {draft.title}
    assert titles(party=str(partner.pk)) == {active.title}
    assert titles(party=str(host.pk)) == {active.title, draft.title}
    assert titles(q="Outsider") == {draft.title}
    content = manager_client.get(LIST).content.decode()
    assert "v1: draft" in content
    assert f"{host.slug}, {outsider.slug}" in content


def test_the_list_shows_no_terms_in_force_for_a_suspended_agreement(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    agreement = _agreement(host, partner, state="active")
    until = f"v1, until {agreement.versions.get().valid_until:%Y-%m-%d}"
    assert until in manager_client.get(LIST).content.decode()

    services.agreement_suspend(agreement=agreement, reason="Review", actor=SYSTEM)

    assert until not in manager_client.get(LIST).content.decode()


def _enroll(host: Partner, brand: Partner, *numbers: str) -> None:
    """Members of the host enrolled in ``brand``'s program through the services: a notice,
    both consents, then the request (the agreement between them must be active)."""
    notice = make_notice(
        text="氏名とメールアドレスを提携先に提供します。",
        purposes=["cross_enrollment", "profile_sharing"],
        recipients=[brand],
        data_items=["name", "email"],
        effective_at=timezone.now() - timedelta(days=1),
    )
    for number in numbers:
        member = member_create(
            partner=host,
            values={"member_number": number, "kind": "household", "name": "佐藤 花子"},
            actor=SYSTEM,
        )
        for purpose in ("cross_enrollment", "profile_sharing"):
            consent_grant(
                member=member,
                purpose_code=purpose,
                recipient=brand,
                notice=notice,
                channel="host_portal",
                occurred_at=timezone.now() - timedelta(minutes=5),
                actor=SYSTEM,
            )
        services.enrollment_request(member=member, target=brand, fields=None, actor=SYSTEM)


def test_the_list_counts_live_enrollments_per_agreement(
    manager_client: Client, host: Partner, partner: Partner, outsider: Partner
) -> None:
    with_brand = _agreement(host, partner, title="With Brand", state="active")
    _agreement(host, outsider, title="With Outsider", state="active")
    _enroll(host, partner, "K-1", "K-2")
    ended = Enrollment.objects.first()
    assert ended is not None
    services.enrollment_end(enrollment=ended, reason="Left", actor=SYSTEM)

    response = manager_client.get(LIST, {"o": "-6"})  # by live enrollments, most first

    counts = {a.title: a.live_enrollments for a in response.context["cl"].result_list}
    assert counts == {"With Brand": 1, "With Outsider": 0}
    assert response.context["cl"].result_list[0] == with_brand


def test_the_list_reads_a_bounded_number_of_queries(
    manager_client: Client, host: Partner, partner: Partner, outsider: Partner
) -> None:
    _agreement(host, partner, state="active")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(LIST).status_code == 200
        return len(captured)

    one = queries()
    _agreement(host, partner, title="Second", state="proposed")
    _agreement(host, outsider, title="Third")
    active = _agreement(host, outsider, title="Fourth", state="active")
    services.agreement_suspend(agreement=active, reason="Review", actor=SYSTEM)

    assert queries() == one


# --- who may do what --------------------------------------------------------------------------


def _pages(agreement: Agreement) -> list[str]:
    return [
        LIST,
        ADD,
        _url(agreement, "change"),
        _url(agreement, "history"),
        _url(agreement, "diff"),
        _url(agreement, "versions", "new"),
        _url(agreement, "versions", 1, "edit"),
    ]


def _actions(agreement: Agreement) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("propose", {"version": 1}),
        ("withdraw", {"version": 1}),
        ("sign", {"version": 1, "partner": agreement.host_id, "signed_by": "X", "how": "on paper"}),
        ("suspend", {"reason": "Because"}),
        ("resume", {}),
        ("terminate", {"reason": "Because"}),
    ]


@pytest.mark.parametrize(
    "persona", ["partner_admin", "partner_analyst", "compliance_reviewer", None]
)
def test_others_are_sent_to_the_login_page(
    persona: str | None, request: Any, host: Partner, partner: Partner
) -> None:
    client = _login(request.getfixturevalue(persona)) if persona else Client()
    agreement = _agreement(host, partner, state="proposed")
    before = _snapshot(agreement)

    for url in _pages(agreement):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/")
    for action, data in _actions(agreement):
        response = client.post(_url(agreement, "act", action), data)
        assert response.status_code == 302, action
        assert response["Location"].startswith("/admin/login/")
    assert client.post(ADD, _form(host, partner)).status_code == 302
    assert _snapshot(agreement) == before
    assert Agreement.objects.count() == 1


def test_staff_without_the_manager_role_are_refused(
    partner_admin: User, host: Partner, partner: Partner
) -> None:
    """Partner staff whose account was made staff by hand, and a staff user without a role,
    still get nothing: the role decides, not the flag."""
    partner_admin.is_staff = True
    partner_admin.save(update_fields=["is_staff"])
    handmade = make_user("handmade-staff")
    handmade.is_staff = True
    handmade.save(update_fields=["is_staff"])
    agreement = _agreement(host, partner, state="proposed")
    before = _snapshot(agreement)

    for user in (partner_admin, handmade):
        client = _login(user)
        for url in _pages(agreement):
            assert client.get(url).status_code == 403, url
        for action, data in _actions(agreement):
            assert client.post(_url(agreement, "act", action), data).status_code == 403
        assert client.post(ADD, _form(host, partner)).status_code == 403
        assert "Agreements" not in client.get("/admin/").content.decode()
    assert _snapshot(agreement) == before
    assert Agreement.objects.count() == 1


def test_a_superuser_runs_agreements_only_through_a_role(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    root = User.objects.create_superuser("root", "root@sanpo.example", "pw-123456")
    agreement = _agreement(host, partner, state="active")

    assert "Agreements" in manager_client.get("/admin/").content.decode()
    assert "Agreements" not in _login(root).get("/admin/").content.decode()
    assert _login(root).get(_url(agreement, "change")).status_code == 403

    partner_services.staff_role_set(
        user=root, role=StaffRole.Role.ALLIANCE_MANAGER, partner=None, actor=Actor(user=root)
    )
    assert _login(root).get(_url(agreement, "change")).status_code == 200
    _act(_login(root), agreement, "suspend", reason="Root says so")
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.SUSPENDED


def test_agreements_cannot_be_deleted_or_changed_directly(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    agreement = _agreement(host, partner, state="active")
    before = _snapshot(agreement)

    assert manager_client.get(_url(agreement, "delete")).status_code == 403
    assert manager_client.post(_url(agreement, "delete"), {"post": "yes"}).status_code == 403
    response = manager_client.post(_url(agreement, "change"), {"title": "Renamed"})
    assert response.status_code == 403
    assert manager_client.get(LIST).context["action_form"] is None  # no "delete selected"
    assert _snapshot(agreement) == before
    assert Agreement.objects.get().title == "Host and Brand"


def test_a_get_to_an_action_changes_nothing(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    agreement = _agreement(host, partner, state="proposed")
    before = _snapshot(agreement)

    for action, data in _actions(agreement):
        response = manager_client.get(_url(agreement, "act", action), data)
        assert response.status_code == 405, action
    assert manager_client.get(_url(agreement, "act", "explode")).status_code == 405
    assert _snapshot(agreement) == before


def test_the_actions_need_the_csrf_token(
    alliance_manager: User, host: Partner, partner: Partner
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alliance_manager)
    agreement = _agreement(host, partner, state="active")

    response = client.post(_url(agreement, "act", "suspend"), {"reason": "No token"})

    assert response.status_code == 403
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.ACTIVE


def test_the_console_counts_the_enrollments_the_enrollment_domain_calls_live() -> None:
    # The agreements console names enrollment statuses without importing the domain above it.
    from federation.agreements.admin.agreements import LIVE_ENROLLMENT
    from federation.enrollment.services import LIVE

    assert set(LIVE_ENROLLMENT) == set(LIVE)
