"""What a partner's developer meets first: the root page, the served docs, and the API's JSON
404 for any path under /api/ that is not an endpoint.

tests/partners/test_api_schema.py holds the schema to the API's conventions; the checks here
are about the docs as a reader gets them. tests/browser/test_api_docs_browser.py opens them in
a real browser.
"""

import importlib
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import Key, client_for

pytestmark = pytest.mark.django_db

UNKNOWN_API_PATHS = ["/api/", "/api/v2/members", "/api/v1/no-such-thing", "/api/v1/members/"]


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request: pytest.FixtureRequest, settings: Any) -> bool:
    settings.DEBUG = request.param
    return bool(request.param)


@pytest.fixture
def japanese_default(settings: Any) -> None:
    """The configured default (the test suite reads English unless a test asks)."""
    settings.LANGUAGE_CODE = importlib.import_module("config.settings").LANGUAGE_CODE


# --- /api/ paths that are no endpoint ------------------------------------------------------


@pytest.mark.parametrize("path", UNKNOWN_API_PATHS)
def test_an_unknown_api_path_answers_the_json_error_shape(debug: bool, path: str) -> None:
    response = Client().get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"
    assert response.json()["error"]["message"]


def test_an_unknown_api_path_is_a_json_404_for_a_post_and_a_key_too(
    debug: bool, partner_key: Key
) -> None:
    # No CSRF page for a POST without a cookie, no HTML for a caller with a key.
    anonymous = Client(enforce_csrf_checks=True).post(
        "/api/v1/no-such-thing", {"a": 1}, content_type="application/json"
    )
    with_key = client_for(partner_key).delete("/api/v1/members/M-1/no-such-thing")

    for response in (anonymous, with_key):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_an_unknown_api_path_answers_in_the_language_asked_for() -> None:
    english = Client().get("/api/v1/no-such-thing")
    japanese = Client(headers={"accept-language": "ja"}).get("/api/v1/no-such-thing")

    assert english["Content-Language"] == "en"
    assert japanese["Content-Language"] == "ja"
    assert japanese.json()["error"]["code"] == english.json()["error"]["code"] == "not_found"
    assert japanese.json()["error"]["message"] != english.json()["error"]["message"]


@pytest.mark.parametrize("page", ["/api/docs", "/api/redoc", "/api/schema"])
def test_a_docs_address_without_its_slash_still_reaches_the_docs(page: str) -> None:
    response = Client().get(page)

    assert response.status_code == 301
    assert response["Location"] == page + "/"


def test_the_endpoints_are_still_reached(partner_key: Key) -> None:
    assert client_for(partner_key).get("/api/v1/me").status_code == 200
    assert Client().get("/api/v1/me").json()["error"]["code"] == "authentication_required"


# --- the root page -------------------------------------------------------------------------

LINKS = ["/admin/", "/compliance/", "/api/docs/", "/api/redoc/", "/api/schema/", "/health/"]


def _links(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)"', html)


def test_the_root_page_is_japanese_by_default(japanese_default: None) -> None:
    response = Client().get("/")
    html = response.content.decode()

    assert response.status_code == 200
    assert response["Content-Language"] == "ja"
    assert '<html lang="ja">' in html
    assert "アライアンス" in html
    assert "Alliance console" not in html


def test_the_root_page_is_english_on_request(japanese_default: None) -> None:
    response = Client(headers={"accept-language": "en-GB,en;q=0.9"}).get("/")
    html = response.content.decode()

    assert response["Content-Language"] == "en"
    assert '<html lang="en">' in html
    assert "Alliance console" in html
    assert "アライアンス" not in html


def test_the_root_page_links_where_people_and_systems_go_next() -> None:
    html = Client().get("/").content.decode()

    assert set(LINKS) <= set(_links(html))
    assert reverse("home") == "/"


def test_the_root_page_loads_nothing_from_outside() -> None:
    html = Client().get("/").content.decode()

    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "<script" not in html


def test_every_link_on_the_root_page_answers(partner_key: Key) -> None:
    for link in _links(Client().get("/").content.decode()):
        response = Client().get(link, follow=True)
        # The compliance pages and the console ask to log in; the health check may say 503
        # when this machine has no broker; nothing is a 404.
        assert response.status_code in {200, 503}, link
