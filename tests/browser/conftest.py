"""Real-browser tests: Playwright's sync API drives Debian's chromium (``/usr/bin/chromium``,
never a downloaded browser) against pytest-django's live server.

Fixtures for the tests in this folder:

- ``live_url``: the live server's base URL, e.g. ``http://localhost:41234`` (no trailing slash).
  The test gets a transactional database: rows the test creates are committed, so the server
  thread sees them, and the test sees what the server wrote. Each test starts with what the
  migrations put in the database (purposes, permissions, ...) and ends with a flush.
- ``browser``: one headless chromium for the whole folder.
- ``page``: a fresh page in a fresh context (no cookies), whose ``base_url`` is ``live_url``:
  ``page.goto("/compliance/login/")`` works. Log in through a real form with ``page.fill`` and
  ``page.click`` as a person would.
- ``context``: that page's context; ``new_context(**options)`` opens another one (a phone
  viewport, a second person), closed after the test.
- ``log_in(user, into=None)``: logs a Django user into a context (the page's by default) by
  the session cookie, for tests that are not about logging in.

The contexts answer requests to other hosts with an error and the test fails at teardown: the
pages must work with no outside network (no CDN), as on a locked-down office network.

Django refuses ORM calls from a thread that runs an asyncio loop, and Playwright's sync API
runs one in the test's thread; see ``_playwright`` for how that is handled. Tests here may use
the ORM and the services in their body as any other test does.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root in a container, where chromium's sandbox cannot start
    "--disable-background-networking",
    "--disable-component-update",
]
DEFAULT_TIMEOUT_MS = 10_000  # a local page that takes longer is a failure, not a slow pass
_HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(_HERE):
            item.add_marker(pytest.mark.browser)


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


@pytest.fixture(scope="package")
def _playwright() -> Iterator[Playwright]:
    if not CHROMIUM.is_file():
        reason = (
            f"{CHROMIUM} is missing: the browser tests drive Debian's chromium "
            "(apt-get install -y chromium); Playwright's own browsers are never downloaded"
        )
        if _on_ci():
            pytest.fail(f"CI must run the browser tests, but {reason}", pytrace=False)
        pytest.skip(reason)
    # Playwright's sync API keeps an asyncio loop registered as running in this thread from
    # start() to stop(). Django reacts to that loop in two ways, both meant for async code,
    # which never touches the database here (the live server answers in its own thread):
    # - It raises SynchronousOnlyOperation for every ORM call: the test body's, and
    #   pytest-django's flush and restore around each test. Allow them for exactly as long as
    #   the loop runs.
    # - It hands out a second set of connections, one per asyncio context, which would not
    #   carry the test database's serialized state (see ``live_url``), would not be the
    #   connection an in-memory SQLite test database shares with the live server, and would
    #   stay open on PostgreSQL after the tests. Give the loop's context this thread's own.
    # Package scope ends both before any test outside this folder: after the folder's last
    # test, and under pytest-xdist also when a worker is handed other tests between two of this
    # folder's (the next one here starts them again), so no other test runs while they last.
    from django.db import connections

    own = {alias: connections[alias] for alias in connections}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            for alias, connection in own.items():
                connections[alias] = connection
            yield playwright


@pytest.fixture(scope="package")
def browser(_playwright: Playwright) -> Iterator[Browser]:
    browser = _playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def _migrated_state_after_the_last_test(django_db_blocker: Any) -> Iterator[None]:
    yield
    # ``live_url`` restores the migrations' rows before each test (serialized rollback), so
    # pytest-django flushes after it without re-creating content types and permissions. Every
    # other transactional test ends with them re-created; leave the database that way for the
    # tests that run after this folder.
    from django.core.management.sql import emit_post_migrate_signal
    from django.db import DEFAULT_DB_ALIAS

    with django_db_blocker.unblock():
        emit_post_migrate_signal(verbosity=0, interactive=False, db=DEFAULT_DB_ALIAS)


@pytest.fixture
def live_url(
    live_server: Any,
    django_db_serialized_rollback: None,
    _migrated_state_after_the_last_test: None,
) -> str:
    # A live server needs a transactional database, which starts flushed when another
    # transactional test ran before: without serialized rollback the purposes catalogue and
    # other rows from data migrations would be missing.
    return str(live_server.url)


class NewContext(Protocol):
    def __call__(self, **options: Any) -> BrowserContext: ...


@pytest.fixture
def new_context(browser: Browser, live_url: str) -> Iterator[NewContext]:
    opened: list[BrowserContext] = []
    outside: list[str] = []
    origin = urlsplit(live_url)

    def keep_local(route: Route) -> None:
        url = urlsplit(route.request.url)
        if (url.scheme, url.netloc) == (origin.scheme, origin.netloc):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort("blockedbyclient")

    def new_context(**options: Any) -> BrowserContext:
        options = {
            "base_url": live_url,
            "locale": "ja-JP",
            "timezone_id": "Asia/Tokyo",
            **options,
        }
        context = browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.route("**/*", keep_local)
        opened.append(context)
        return context

    yield new_context
    for context in opened:
        context.close()
    if outside:
        pytest.fail(f"The pages asked for outside resources: {sorted(set(outside))}")


@pytest.fixture
def context(new_context: NewContext) -> BrowserContext:
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


class LogIn(Protocol):
    def __call__(self, user: User, into: BrowserContext | None = None) -> None: ...


@pytest.fixture
def log_in(context: BrowserContext, live_url: str) -> LogIn:
    def log_in(user: User, into: BrowserContext | None = None) -> None:
        client = Client()
        client.force_login(user)  # a real session row, committed: the live server reads it
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        (into or context).add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": cookie.value,
                    "url": live_url,
                    "httpOnly": True,
                    "secure": settings.SESSION_COOKIE_SECURE,
                    "sameSite": "Lax",
                }
            ]
        )

    return log_in
