"""The API docs in a real browser: Swagger UI and ReDoc render every operation and the guides
from Sanpo's own static files, loading nothing from any other host (no web fonts, no CDN, no
logo): a partner's developer may read them on a locked-down office network.

The ``new_context`` fixture already refuses requests that reach the network for other hosts and
fails the test; these tests also record every request each page makes. Every one must go to the
live server, but one: ReDoc's bundle always puts its vendor's logo from a CDN in its menu, and
the docs pages' Content-Security-Policy (config/urls.py) has the browser refuse it before it
leaves the page (the request fails with ``csp``). Any other outside address fails the test.
"""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from tests.browser.conftest import NewContext
from tests.browser.i18n import assert_japanese_renders, assert_no_english

# ReDoc and Swagger UI build the page from the whole schema (about 230 KB, every operation) in
# JavaScript; on a busy 2-core machine the first render can take longer than a plain page.
RENDERED_MS = 30_000
BLOCKED_BY_THE_PAGE = "csp"  # what chromium reports for a request its CSP refused


@pytest.fixture
def page(new_context: NewContext) -> Page:
    return new_context(locale="en-GB").new_page()


@dataclass
class Recorded:
    requests: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)


def _record(page: Page) -> Recorded:
    recorded = Recorded()

    def seen(request: Request) -> None:
        recorded.requests.append(request.url)

    def failed(request: Request) -> None:
        recorded.failures[request.url] = request.failure or ""

    page.on("request", seen)
    page.on("requestfailed", failed)
    return recorded


def _assert_all_local(recorded: Recorded, live_url: str) -> None:
    origin = urlsplit(live_url)
    outside = [
        url
        for url in recorded.requests
        if (urlsplit(url).scheme, urlsplit(url).netloc) != (origin.scheme, origin.netloc)
        and not url.startswith(("data:", "blob:"))
    ]
    sent = [url for url in outside if recorded.failures.get(url) != BLOCKED_BY_THE_PAGE]
    assert sent == [], recorded.failures
    assert recorded.requests, "the page made no request at all"


def test_redoc_renders_the_guides_and_the_operations_from_local_files(
    page: Page, live_url: str
) -> None:
    requests = _record(page)

    page.goto("/api/redoc/")

    expect(page.get_by_role("heading", name="Sanpo partner API")).to_be_visible(timeout=RENDERED_MS)
    expect(page.locator("h2", has_text="Idempotency").first).to_be_visible()
    expect(page.locator("h2", has_text="Check consent").first).to_be_attached()
    expect(page.get_by_text("sanpo_signature_is_valid").first).to_be_attached()
    page.wait_for_load_state("networkidle")
    assert any(url.endswith("/api/schema/") for url in requests.requests)
    assert any("/static/drf_spectacular_sidecar/redoc/" in url for url in requests.requests)
    _assert_all_local(requests, live_url)


def test_redoc_asks_for_no_web_font(page: Page, live_url: str) -> None:
    fonts: list[str] = []
    page.on(
        "request",
        lambda request: fonts.append(request.url) if request.resource_type == "font" else None,
    )

    page.goto("/api/redoc/")
    expect(page.get_by_role("heading", name="Sanpo partner API")).to_be_visible(timeout=RENDERED_MS)
    page.wait_for_load_state("networkidle")

    assert fonts == []


def test_swagger_ui_renders_every_operation_from_local_files(page: Page, live_url: str) -> None:
    requests = _record(page)

    page.goto("/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Sanpo partner API")
    operations = page.locator(".opblock-summary")
    expect(operations.first).to_be_visible(timeout=RENDERED_MS)
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/consent/check")).to_be_visible()
    expect(page.get_by_text("Check consent", exact=True)).to_be_visible()
    assert operations.count() >= 50
    page.wait_for_load_state("networkidle")
    assert any("/swagger-ui-dist/" in url for url in requests.requests)
    _assert_all_local(requests, live_url)


def test_swagger_ui_shows_an_operations_examples_and_errors(page: Page) -> None:
    page.goto("/api/docs/")
    operation = page.locator(
        ".opblock", has=page.locator(".opblock-summary-path", has_text="/api/v1/consent/check")
    )

    operation.locator(".opblock-summary").click(timeout=RENDERED_MS)

    expect(operation.get_by_text("co_marketing_contact").first).to_be_visible()
    expect(operation.locator(".response[data-code='429']")).to_be_visible()
    expect(operation.get_by_text("rate_limited").first).to_be_attached()


def test_the_root_page_leads_to_the_docs(page: Page, live_url: str) -> None:
    requests = _record(page)

    page.goto("/")
    page.get_by_role("link", name="API documentation (ReDoc)").click()

    expect(page.get_by_role("heading", name="Sanpo partner API")).to_be_visible(timeout=RENDERED_MS)
    _assert_all_local(requests, live_url)


def test_the_root_page_is_japanese_and_switches_to_english(new_context: NewContext) -> None:
    page = new_context().new_page()  # the fixture's browser asks for Japanese (ja-JP)

    page.goto("/")
    assert_no_english(page, ["Alliance console", "Compliance pages", "For people", "Health check"])
    assert_japanese_renders(page)
    page.get_by_role("button", name="English").click()

    expect(page.get_by_role("link", name="Alliance console")).to_be_visible()
    expect(page.get_by_role("link", name="API documentation (Swagger UI)")).to_be_visible()
