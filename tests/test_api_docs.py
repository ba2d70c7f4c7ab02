"""What a partner's developer meets first: the root page, the served docs, and the API's JSON
404 for any path under /api/ that is not an endpoint.

tests/partners/test_api_schema.py holds the schema to the API's conventions; the checks here
are about the docs as a reader gets them. tests/browser/test_api_docs_browser.py opens them in
a real browser.
"""

import hashlib
import hmac
import importlib
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from partners.errors import ERROR_CODES, STATUS_BY_CODE
from partners.signing import signature_header
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


GUIDES = Path(settings.BASE_DIR) / "partners" / "api" / "docs"
GUIDE_TITLES = [
    "# Authentication",
    "# Idempotency",
    "# Pagination",
    "# Errors",
    "# Rate limits",
    "# Languages",
    "# Webhooks",
]


def _served_schema() -> dict[str, Any]:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return dict(json.loads(response.content))


# --- the guides, served with the schema ----------------------------------------------------


def test_the_guides_are_the_schema_description_in_order() -> None:
    description = _served_schema()["info"]["description"]
    lines = description.splitlines()

    positions = [lines.index(title) for title in GUIDE_TITLES]
    assert positions == sorted(positions)
    for guide in sorted(GUIDES.glob("*.md")):
        first_paragraph = guide.read_text(encoding="utf-8").split("\n\n")[0].strip()
        if first_paragraph.startswith("# "):
            first_paragraph = guide.read_text(encoding="utf-8").split("\n\n")[1].strip()
        assert first_paragraph in description, guide.name


def test_the_errors_guide_lists_every_registered_code_with_its_status() -> None:
    description = _served_schema()["info"]["description"]

    assert "sanpo:error-codes" not in description
    for code in ERROR_CODES:
        assert f"| {STATUS_BY_CODE[code]} | `{code}` |" in description, code
    # Codes other apps register are there too, not only the partners app's own.
    assert "`no_agreement`" in description
    assert "`identity_not_verified`" in description


def test_every_tag_in_use_is_described() -> None:
    schema = _served_schema()
    described = {tag["name"]: tag.get("description", "") for tag in schema["tags"]}
    used = {tag for item in schema["paths"].values() for op in item.values() for tag in op["tags"]}

    assert used <= set(described)
    assert all(len(described[tag]) > 10 for tag in used)


def _guide_snippet() -> str:
    text = (GUIDES / "08-webhooks.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n(.*?)```", text, re.S)
    assert match is not None
    return match.group(1)


def test_the_webhook_guide_verification_snippet_verifies_what_sanpo_signs() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(_guide_snippet(), "08-webhooks.md", "exec"), namespace)  # noqa: S102
    is_valid = namespace["sanpo_signature_is_valid"]
    body = b'{"id": "e1", "type": "webhook.ping", "data": {}}'
    now = int(time.time())

    def headers(secrets: list[str], at: int = now, event_id: str = "e1") -> dict[str, str]:
        signature = signature_header(secrets=secrets, event_id=event_id, timestamp=at, body=body)
        return {"Sanpo-Signature": signature, "Sanpo-Event-Id": "e1"}

    assert is_valid("whsec_new", headers(["whsec_new"]), body)
    assert is_valid("whsec_old", headers(["whsec_new", "whsec_old"]), body)  # a rotation
    assert not is_valid("whsec_other", headers(["whsec_new"]), body)
    assert not is_valid("whsec_new", headers(["whsec_new"]), body + b" ")
    assert not is_valid("whsec_new", headers(["whsec_new"], at=now - 301), body)
    assert not is_valid("whsec_new", headers(["whsec_new"], event_id="e2"), body)


def test_the_snippet_signs_as_the_guide_says() -> None:
    # The guide states the message; check the statement as well as the code.
    body, now = b"{}", int(time.time())
    header = signature_header(secrets=["s"], event_id="e1", timestamp=now, body=body)
    expected = hmac.new(b"s", f"e1.{now}.".encode() + body, hashlib.sha256).hexdigest()

    assert header == f"t={now},v1={expected}"
    assert "`<event id>.<timestamp>.<raw body>`" in (GUIDES / "08-webhooks.md").read_text()


# --- the docs pages load nothing from outside ------------------------------------------------


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_name_no_outside_address(page: str) -> None:
    html = Client().get(page).content.decode()

    assert "fonts.googleapis" not in html
    assert "fonts.gstatic" not in html
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    assert "/static/drf_spectacular_sidecar/" in html


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_have_the_browser_refuse_any_other_host(page: str) -> None:
    # ReDoc's bundle asks its vendor's CDN for a logo whatever it is told; the policy stops it.
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in Client().get(page)["Content-Security-Policy"].split(";")
    )

    assert policy["default-src"] == "'self'"
    for directive in ("script-src", "style-src", "img-src", "font-src", "connect-src"):
        sources = policy[directive].split()
        assert all(s in {"'self'", "'unsafe-inline'", "data:"} for s in sources), directive


def test_redoc_is_told_to_use_the_systems_fonts() -> None:
    html = Client().get("/api/redoc/").content.decode()

    assert "system-ui" in html
    assert "Montserrat" not in html


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
