"""A person's saved language: the switch saves it (audited) when they are signed in, and it
comes before the switch's cookie and the browser's Accept-Language, on every device they sign
in on (README, "Languages")."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from partners import services
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import AuditEvent, StaffPreference
from tests.conftest import Key, client_for

pytestmark = pytest.mark.django_db

PAGE = "/admin/partners/partner/"


def _signed_in(user: User, *, accept_language: str = "ja") -> Client:
    client = Client(headers={"accept-language": accept_language})
    client.force_login(user)
    return client


def _switch(client: Client, language: str) -> Any:
    return client.post("/i18n/setlang/", {"language": language, "next": PAGE})


def _language_events() -> Any:
    return AuditEvent.objects.filter(action=AuditEvent.Action.STAFF_LANGUAGE_SET)


def test_the_switch_saves_a_signed_in_person_choice_and_audits_it(
    alliance_manager: User,
) -> None:
    client = _signed_in(alliance_manager)

    switched = _switch(client, "en")

    assert switched.status_code == 302
    assert switched["Location"] == PAGE
    assert StaffPreference.objects.get(user=alliance_manager).language == "en"
    (event,) = _language_events()
    assert event.actor_user == alliance_manager
    assert event.detail == {"user": "alice-manager", "from": None, "to": "en"}
    assert client.get(PAGE)["Content-Language"] == "en"


def test_choosing_the_same_language_again_writes_nothing(alliance_manager: User) -> None:
    client = _signed_in(alliance_manager)
    _switch(client, "en")
    _switch(client, "en")
    _switch(client, "ja")

    assert [e.detail["to"] for e in _language_events().order_by("id")] == ["en", "ja"]
    assert _language_events().order_by("id").last().detail["from"] == "en"


def test_the_saved_language_comes_before_the_cookie_and_the_browser(
    alliance_manager: User,
) -> None:
    services.staff_language_set(user=alliance_manager, language="en", actor=Actor.system())
    client = Client(headers={"accept-language": "ja"})
    client.cookies["django_language"] = "ja"
    client.force_login(alliance_manager)

    response = client.get(PAGE)

    assert response["Content-Language"] == "en"
    assert '<html lang="en"' in response.content.decode()


def test_the_saved_language_follows_the_person_to_another_device(
    alliance_manager: User, settings: Any
) -> None:
    settings.LANGUAGE_CODE = "ja"
    laptop = _signed_in(alliance_manager, accept_language="")
    _switch(laptop, "en")

    phone = _signed_in(alliance_manager, accept_language="ja-JP,ja;q=0.9")

    assert phone.get(PAGE)["Content-Language"] == "en"


def test_without_a_saved_language_the_cookie_then_the_browser_decide(
    alliance_manager: User,
) -> None:
    browser = _signed_in(alliance_manager, accept_language="ja")
    assert browser.get(PAGE)["Content-Language"] == "ja"

    browser.cookies["django_language"] = "en"
    assert browser.get(PAGE)["Content-Language"] == "en"


def test_a_person_not_signed_in_keeps_only_the_cookie(alliance_manager: User) -> None:
    client = Client(headers={"accept-language": "ja"})

    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/admin/login/"})

    assert switched.status_code == 302
    assert client.get("/admin/login/")["Content-Language"] == "en"
    assert not StaffPreference.objects.exists()
    assert not _language_events().exists()


def test_a_language_the_service_does_not_speak_is_not_saved(alliance_manager: User) -> None:
    client = _signed_in(alliance_manager)

    switched = _switch(client, "fr")

    assert switched.status_code == 302
    assert not StaffPreference.objects.exists()
    with pytest.raises(ApplicationError) as refused:
        services.staff_language_set(user=alliance_manager, language="fr", actor=Actor.system())
    assert refused.value.code == "validation_failed"
    assert set(refused.value.fields) == {"language"}


def test_the_switch_only_changes_anything_on_post(alliance_manager: User) -> None:
    client = _signed_in(alliance_manager)

    response = client.get("/i18n/setlang/", {"language": "en", "next": PAGE})

    assert response.status_code == 302
    assert not StaffPreference.objects.exists()


def test_the_switch_needs_the_csrf_token(alliance_manager: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alliance_manager)

    assert _switch(client, "en").status_code == 403
    assert not StaffPreference.objects.exists()


def test_the_partner_api_ignores_saved_languages(alliance_manager: User, partner_key: Key) -> None:
    services.staff_language_set(user=alliance_manager, language="ja", actor=Actor.system())

    response = client_for(partner_key).get("/api/v1/members/M-404")

    assert response["Content-Language"] == "en"
