"""The partner console (partners.admin.partner_console): partner admins and analysts sign in
and read their own company's keys, webhooks, deliveries, enrollments and agreements; another
company's object answers like a missing one; nothing changes there; nobody else signs in."""

import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from partners import services
from partners.actors import Actor
from partners.models import ApiKey, Partner, WebhookDelivery, WebhookEndpoint
from tests.factories import flow, issue_key, make_agreement

CONSOLE = "/partner-console/"
PASSWORD = "correct horse battery staple"  # UserFactory's


def _endpoint_with_delivery(partner: Partner, url: str) -> tuple[WebhookEndpoint, WebhookDelivery]:
    endpoint = services.webhook_endpoint_create(
        partner=partner, url=url, events=["api_key.issued"], actor=Actor.system()
    ).endpoint
    (delivery,) = services.webhook_emit(
        partner=partner, event_type="api_key.issued", data={"api_key_id": "k-1"}
    )
    return endpoint, delivery


@pytest.fixture
def two_companies(partner: Partner, outsider: Partner) -> dict[str, Any]:
    ours = issue_key(partner, name="brand key").api_key
    theirs = issue_key(outsider, name="outsider key").api_key
    our_endpoint, our_delivery = _endpoint_with_delivery(partner, "https://8.8.8.8/ours")
    their_endpoint, their_delivery = _endpoint_with_delivery(outsider, "https://8.8.4.4/theirs")
    return {
        "apikey": (ours, theirs),
        "webhookendpoint": (our_endpoint, their_endpoint),
        "webhookdelivery": (our_delivery, their_delivery),
    }


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _change(model: str, pk: Any, app: str = "partners") -> str:
    return f"{CONSOLE}{app}/{model}/{pk}/change/"


@pytest.mark.parametrize("persona", ["partner_admin", "partner_analyst"])
def test_partner_staff_sign_in_with_their_password(persona: str, request: Any) -> None:
    user = request.getfixturevalue(persona)
    client = Client()

    response = client.post(
        f"{CONSOLE}login/", {"username": user.username, "password": PASSWORD, "next": CONSOLE}
    )

    assert response.status_code == 302
    assert response["Location"] == CONSOLE
    index = client.get(CONSOLE)
    assert index.status_code == 200
    assert "API keys" in index.content.decode()


@pytest.mark.parametrize("persona", ["alliance_manager", "compliance_reviewer"])
def test_other_staff_are_told_where_to_sign_in(persona: str, request: Any) -> None:
    user = request.getfixturevalue(persona)

    response = Client().post(
        f"{CONSOLE}login/", {"username": user.username, "password": PASSWORD, "next": CONSOLE}
    )

    assert response.status_code == 200
    assert "Alliance managers sign in to the alliance console" in response.content.decode()
    assert Client().get(CONSOLE).status_code == 302


@pytest.mark.parametrize("persona", ["partner_admin", "partner_analyst"])
@pytest.mark.parametrize("model", ["apikey", "webhookendpoint", "webhookdelivery"])
def test_partner_staff_see_their_own_companys_rows_only(
    persona: str, model: str, two_companies: dict[str, Any], request: Any
) -> None:
    client = _client(request.getfixturevalue(persona))
    ours, theirs = two_companies[model]

    listing = client.get(f"{CONSOLE}partners/{model}/")
    own_page = client.get(_change(model, ours.pk))

    assert listing.status_code == 200
    assert _change(model, ours.pk) in listing.content.decode()
    assert _change(model, theirs.pk) not in listing.content.decode()
    assert own_page.status_code == 200


@pytest.mark.parametrize("model", ["apikey", "webhookendpoint", "webhookdelivery"])
def test_another_companys_object_answers_like_a_missing_one(
    model: str, two_companies: dict[str, Any], partner_admin: User
) -> None:
    client = _client(partner_admin)
    _ours, theirs = two_companies[model]

    other = client.get(_change(model, theirs.pk))
    missing = client.get(_change(model, uuid.uuid4()))

    assert other.status_code == missing.status_code == 302
    assert other["Location"] == missing["Location"] == CONSOLE


def test_nothing_changes_in_the_partner_console(
    two_companies: dict[str, Any], partner_admin: User
) -> None:
    client = _client(partner_admin)
    ours, _theirs = two_companies["apikey"]

    assert client.get(f"{CONSOLE}partners/apikey/add/").status_code == 403
    assert client.post(_change("apikey", ours.pk), {"name": "renamed"}).status_code == 403
    assert client.post(f"{CONSOLE}partners/apikey/{ours.pk}/delete/").status_code == 403
    assert ApiKey.objects.get(pk=ours.pk).name == "brand key"


def test_the_deliveries_page_shows_its_attempts(
    two_companies: dict[str, Any], partner_admin: User
) -> None:
    ours, _theirs = two_companies["webhookdelivery"]

    page = _client(partner_admin).get(_change("webhookdelivery", ours.pk)).content.decode()

    assert 'id="attempts-group"' in page  # the inline of attempts, which it may view
    assert str(ours.event_id) in page


def test_partner_staff_see_their_agreements_and_which_await_their_signature(
    host: Partner, partner: Partner, outsider: Partner, partner_admin: User
) -> None:
    def terms(other: Partner) -> dict[str, Any]:
        return {"data_flows": [flow(host, other, "cross_enrollment", "name")]}

    ours = make_agreement(host, partner, terms=terms(partner), title="Brand", state="proposed")
    theirs = make_agreement(host, outsider, terms=terms(outsider), title="Outsider")
    client = _client(partner_admin)

    listing = client.get(f"{CONSOLE}federation/agreement/").content.decode()

    assert _change("agreement", ours.pk, "federation") in listing
    assert _change("agreement", theirs.pk, "federation") not in listing
    assert 'alt="True"' in listing  # proposed, and the brand has not signed yet
    assert client.get(_change("agreement", ours.pk, "federation")).status_code == 200
    assert client.get(_change("agreement", theirs.pk, "federation"))["Location"] == CONSOLE


def test_the_alliance_console_still_refuses_partner_staff(partner_admin: User) -> None:
    response = _client(partner_admin).get("/admin/partners/apikey/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_partner_console_speaks_japanese(partner_admin: User) -> None:
    client = Client(headers={"accept-language": "ja"})
    client.force_login(partner_admin)

    index = client.get(CONSOLE).content.decode()

    assert "Sanpo 提携企業コンソール" in index
    assert "アライアンスにおける自社" in index


def test_the_alliance_console_log_in_says_where_partner_staff_sign_in(
    partner_admin: User,
) -> None:
    response = Client().post(
        "/admin/login/", {"username": partner_admin.username, "password": PASSWORD}
    )

    content = response.content.decode()
    assert response.status_code == 200  # refused: not an alliance manager
    assert "Partner admins and analysts sign in to the" in content
    assert f'href="{CONSOLE}"' in content


def test_the_alliance_consoles_history_is_not_shown(
    two_companies: dict[str, Any], partner_admin: User
) -> None:
    ours, _theirs = two_companies["apikey"]

    response = _client(partner_admin).get(f"{CONSOLE}partners/apikey/{ours.pk}/history/")

    assert response.status_code == 403
