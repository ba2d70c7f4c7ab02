"""Japanese first for people, English by default for machines: which language each kind of
request is answered in, and how a person changes it."""

import importlib
import re
from typing import Any

import pytest
from django.test import Client

from tests.conftest import Key, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def japanese_default(settings: Any) -> None:
    """The configured default (the test suite reads English unless a test asks)."""
    settings.LANGUAGE_CODE = importlib.import_module("config.settings").LANGUAGE_CODE


def test_the_configured_default_for_people_is_japanese() -> None:
    configured = importlib.import_module("config.settings")
    assert configured.LANGUAGE_CODE == "ja"
    assert [code for code, _name in configured.LANGUAGES] == ["ja", "en"]


def test_a_page_without_a_language_is_japanese(japanese_default: None) -> None:
    response = Client().get("/admin/login/")
    assert response.status_code == 200
    assert response["Content-Language"] == "ja"
    assert '<html lang="ja"' in response.content.decode()
    assert "ログイン" in response.content.decode()


def test_the_browser_language_is_followed(japanese_default: None) -> None:
    response = Client(headers={"accept-language": "en-GB,en;q=0.9,ja;q=0.5"}).get("/admin/login/")
    assert response["Content-Language"] == "en"
    assert '<html lang="en"' in response.content.decode()


def test_the_language_switch_overrides_the_browser(japanese_default: None) -> None:
    browser = Client(headers={"accept-language": "ja"})
    switched = browser.post("/i18n/setlang/", {"language": "en", "next": "/admin/login/"})
    assert switched.status_code == 302
    assert switched["Location"] == "/admin/login/"
    assert browser.get("/admin/login/")["Content-Language"] == "en"
    browser.post("/i18n/setlang/", {"language": "ja", "next": "/admin/login/"})
    assert browser.get("/admin/login/")["Content-Language"] == "ja"


def test_the_language_switch_refuses_a_language_it_does_not_speak() -> None:
    browser = Client()
    browser.post("/i18n/setlang/", {"language": "fr", "next": "/admin/login/"})
    assert browser.get("/admin/login/")["Content-Language"] == "en"  # the suite's default


# --- The partner API: English unless asked ------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "fr", "*", "de-DE,fr;q=0.8"])
def test_the_api_answers_in_english_unless_asked(
    japanese_default: None, partner_key: Key, header: str | None
) -> None:
    client = client_for(partner_key)
    if header is not None:
        client.credentials(
            HTTP_AUTHORIZATION=f"Bearer {partner_key.plaintext}", HTTP_ACCEPT_LANGUAGE=header
        )
    response = client.post("/api/v1/members", {}, format="json")
    assert response.status_code == 400
    assert response["Content-Language"] == "en"
    assert response.json()["error"]["fields"]["member_number"] == ["This field is required."]


@pytest.mark.parametrize("header", ["ja", "ja-JP", "fr;q=0.9, ja;q=0.8", "en;q=0.1, ja"])
def test_the_same_bad_request_in_japanese_keeps_its_code_and_status(
    partner_key: Key, header: str
) -> None:
    english = client_for(partner_key).post("/api/v1/members", {}, format="json")
    client = client_for(partner_key)
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {partner_key.plaintext}", HTTP_ACCEPT_LANGUAGE=header
    )
    japanese = client.post("/api/v1/members", {}, format="json")

    assert japanese.status_code == english.status_code == 400
    assert japanese["Content-Language"] == "ja"
    assert japanese.json()["error"]["code"] == english.json()["error"]["code"]
    assert set(japanese.json()["error"]["fields"]) == set(english.json()["error"]["fields"])
    assert japanese.json()["error"]["fields"]["member_number"] == ["この項目は必須です。"]
    assert "Accept-Language" in japanese["Vary"]


def test_dates_and_numbers_follow_the_language() -> None:
    from datetime import datetime

    from django.contrib.humanize.templatetags.humanize import intcomma
    from django.utils import formats, translation

    moment = datetime(2026, 12, 5, 14, 30)
    with translation.override("ja"):
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "2026/12/05 14:30"
        assert formats.date_format(moment, "DATE_FORMAT") == "2026年12月5日"
        assert intcomma(5500000) == "5,500,000"
    with translation.override("en"):
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "2026-12-05 14:30"
        assert formats.date_format(moment, "DATE_FORMAT") == "5 Dec 2026"
        assert intcomma(5500000) == "5,500,000"


# --- The console's header: its title and the language switch ----------------------------------


def test_the_console_header_is_in_the_manager_language(alliance_manager: Any) -> None:
    for language, header in (
        ("ja", "Sanpo アライアンス管理コンソール"),
        ("en", "Sanpo alliance console"),
    ):
        client = Client(headers={"accept-language": language})
        client.force_login(alliance_manager)
        html = client.get("/admin/").content.decode()
        assert f'<html lang="{language}"' in html
        assert header in html


@pytest.mark.parametrize("signed_in", [True, False], ids=["console", "log-in page"])
def test_the_console_header_offers_the_language_switch(
    alliance_manager: Any, signed_in: bool
) -> None:
    client = Client(headers={"accept-language": "ja"})
    if signed_in:
        client.force_login(alliance_manager)
    url = "/admin/partners/partner/" if signed_in else "/admin/login/"
    html = client.get(url).content.decode()

    assert ">日本語</button>" in html
    assert ">English</button>" in html
    assert f'name="next" value="{url}"' in html
    buttons = re.findall(r'<button type="submit" name="language"[^>]*>', html)
    assert len(buttons) == 2  # one form, in the header
    assert [b for b in buttons if "aria-current" in b] == [
        '<button type="submit" name="language" value="ja" lang="ja" aria-current="true" disabled>'
    ]

    switched = client.post("/i18n/setlang/", {"language": "en", "next": url})
    assert switched["Location"] == url
    assert client.get(url)["Content-Language"] == "en"
