"""Personas (healthchecks' alice/bob/charlie, for an alliance) and API helpers.

- host: the customer-base owner; partner: a brand; outsider: a brand with no business here.
- alliance_manager, compliance_reviewer: alliance-wide staff users.
- host_admin / partner_admin / partner_analyst: partner staff users.
- Each partner has ``<name>_key``: a key with read, write and admin scopes.
"""

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from partners.models import ApiScope, Partner, StaffRole
from tests.factories import issue_key, make_partner, make_staff
from tests.log_scan import SCAN, fail_on_leaks
from tests.xdist_workers import (
    TooManyWorkersError,
    check_redis_databases_for,
    use_worker_redis_databases,
)


def pytest_configure(config: pytest.Config) -> None:
    # Under pytest-xdist (``make test``), each worker process its own Redis databases
    # (tests/xdist_workers.py); pytest-django already gives it a test database of its own.
    SCAN.install()  # every test's log records, searched for personal data (tests/log_scan.py)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    workers = len(config.getoption("tx", None) or [])  # in the process that starts them
    try:
        if worker:
            use_worker_redis_databases(int(worker.removeprefix("gw")))
        elif workers:
            check_redis_databases_for(workers)
    except TooManyWorkersError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_unconfigure(config: pytest.Config) -> None:
    SCAN.uninstall()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A test whose log records name personal data fails at its teardown (tests/log_scan.py)."""
    outcome = yield
    if call.when != "teardown":
        return
    fail_on_leaks(outcome.get_result(), SCAN.take())  # type: ignore[attr-defined]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    has_broker = bool(settings.CELERY_BROKER_URL)
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL row locks: set DATABASE_URL (CI does)")
            )
        if "broker" in item.keywords and not has_broker:
            item.add_marker(
                pytest.mark.skip(reason="needs a Celery broker: set CELERY_BROKER_URL (CI does)")
            )


@pytest.fixture(autouse=True)
def _no_holdout_unless_asked(settings: Any) -> None:
    """A programme holds out a random share of its members (``federation.holdouts``, 10% by
    default); the features' own tests run without one, so that who gets a bonus does not depend
    on a random seed. The holdout tests set ``SANPO_HOLDOUT_PERCENT`` themselves."""
    settings.SANPO_HOLDOUT_PERCENT = 0


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _people_read_english(settings: Any) -> None:
    """People are answered in Japanese unless they ask for English (``config.settings``); most
    tests read the English pages, so a request that names no language gets English here.
    Tests of the Japanese default set ``settings.LANGUAGE_CODE = "ja"`` again, and
    ``tests/test_i18n.py`` holds the configured default to Japanese."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(scope="session", autouse=True)
def _stop_consent_listener(django_db_setup: Any) -> Iterator[None]:
    """The consent cache listens on a connection of its own; close it before the test
    database is dropped (pytest-django tears django_db_setup down after this)."""
    yield
    from consent.check_cache import cache

    cache.stop()


@dataclass
class Key:
    partner: Partner
    plaintext: str

    @property
    def api_key(self) -> Any:
        from partners.models import ApiKey

        return ApiKey.objects.get(lookup=self.plaintext.split("_")[1])


@pytest.fixture
def alliance_manager(db: Any) -> Any:
    return make_staff("alice-manager", StaffRole.Role.ALLIANCE_MANAGER)


@pytest.fixture
def compliance_reviewer(db: Any) -> Any:
    return make_staff("carol-reviewer", StaffRole.Role.COMPLIANCE_REVIEWER)


@pytest.fixture
def host(db: Any) -> Partner:
    return make_partner("host-co", kind=Partner.Kind.HOST)


@pytest.fixture
def partner(db: Any) -> Partner:
    return make_partner("brand-co")


@pytest.fixture
def outsider(db: Any) -> Partner:
    return make_partner("outsider-co")


@pytest.fixture
def host_admin(host: Partner) -> Any:
    return make_staff("hiro-host-admin", StaffRole.Role.PARTNER_ADMIN, host)


@pytest.fixture
def partner_admin(partner: Partner) -> Any:
    return make_staff("bob-partner-admin", StaffRole.Role.PARTNER_ADMIN, partner)


@pytest.fixture
def partner_analyst(partner: Partner) -> Any:
    return make_staff("ann-partner-analyst", StaffRole.Role.PARTNER_ANALYST, partner)


@pytest.fixture
def partner_key(partner: Partner, alliance_manager: Any) -> Key:
    return Key(partner, issue_key(partner).plaintext)


@pytest.fixture
def partner_read_key(partner: Partner, alliance_manager: Any) -> Key:
    return Key(partner, issue_key(partner, scopes=(ApiScope.READ,)).plaintext)


@pytest.fixture
def outsider_key(outsider: Partner, alliance_manager: Any) -> Key:
    return Key(outsider, issue_key(outsider).plaintext)


@pytest.fixture
def host_key(host: Partner, alliance_manager: Any) -> Key:
    return Key(host, issue_key(host).plaintext)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def client_for(key: Key | str | None) -> APIClient:
    client = APIClient()
    if key is not None:
        plaintext = key.plaintext if isinstance(key, Key) else key
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_report_header(config: pytest.Config) -> str:
    return (
        f"sanpo: DATABASE_URL={'set' if os.environ.get('DATABASE_URL') else 'unset (SQLite)'}, "
        f"CELERY_BROKER_URL={'set' if os.environ.get('CELERY_BROKER_URL') else 'unset (eager)'}"
    )


# --- A real local webhook receiver -----------------------------------------------------------


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    received_at: float  # time.time()


class WebhookReceiver:
    """An HTTP server on a free port of 127.0.0.1 (or ``host``), in a thread. It records every
    request and answers the scripted status codes in order, then ``default_status``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.requests: list[ReceivedRequest] = []
        self.default_status = 200
        self._script: list[int] = []
        self._lock = threading.Lock()
        self._answering = threading.Event()  # cleared: each request waits, as a hung receiver's
        self._answering.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(
                        ReceivedRequest(
                            path=self.path,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            body=body,
                            received_at=time.time(),
                        )
                    )
                    status = (
                        receiver._script.pop(0) if receiver._script else receiver.default_status
                    )
                receiver._answering.wait(30)
                answer = b'{"received": true}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server_class = ThreadingHTTPServer
        if ":" in host:

            class IPv6Server(ThreadingHTTPServer):
                address_family = socket.AF_INET6

            server_class = IPv6Server
        self.server = server_class((host, 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/hooks/sanpo"

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def answer(self, *statuses: int) -> None:
        """Answer the next requests with these status codes, in order."""
        with self._lock:
            self._script.extend(statuses)

    def hang(self) -> None:
        """Hold every request, once recorded, unanswered until ``answer_again``."""
        self._answering.clear()

    def answer_again(self) -> None:
        self._answering.set()

    def start(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._answering.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def webhook_receiver() -> Any:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def eager_celery(settings: Any) -> Any:
    """Run tasks in-process even when a broker is configured, as a laptop without one does.
    Only for tests of what a task does; tests/partners/test_webhook_worker.py covers the broker.
    """
    from config.celery import app

    saved = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    """Personas are users with passwords; PBKDF2 at production strength costs 0.25 s each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Uploaded member files and error reports go to a temporary folder, never to var/."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _plain_static_files(settings: Any) -> None:
    # Pages link their CSS through the static-files storage; without DEBUG that is the manifest
    # storage, which needs `collectstatic` first. The tests need no real files.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@contextmanager
def celery_worker() -> Iterator[None]:
    """A real Celery worker on the configured broker, in a thread of this process (celery's own
    testing worker), so it reads the test's settings and writes to the test database. Use it
    with ``django_db(transaction=True)``: on-commit hooks must really commit to reach it."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connections

    from config.celery import app

    assert not app.conf.task_always_eager, "this test needs the broker, not eager tasks"

    def close_worker_connections(**kwargs: Any) -> None:
        # Runs in the worker thread after each task: leave no connection open behind the
        # thread, so the test database can be flushed and dropped afterwards.
        connections.close_all()

    task_postrun.connect(close_worker_connections, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        task_postrun.disconnect(close_worker_connections)
