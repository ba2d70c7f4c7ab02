"""PostgreSQL itself stopped and started while clients create members through a live
server: requests in flight fail cleanly (503, Retry-After, the usual error shape; never a
500), readiness says unready meanwhile, nothing is half-written, and the service recovers by
itself. Each request that failed is sent again with its Idempotency-Key afterwards, and takes
effect exactly once.

It stops the machine's PostgreSQL cluster, so it runs only when asked
(``SANPO_TEST_RESTART_POSTGRES=1``, set by ``.ci/run`` in a step of its own after the suite,
when nothing else uses the database), and as a user allowed to run ``pg_ctlcluster``."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import urllib3
from django.db import connection

from partners.models import MemberAccount
from tests.conftest import Key
from tests.fault_checks import assert_stores_consistent

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        os.environ.get("SANPO_TEST_RESTART_POSTGRES") != "1",
        reason="stops the machine's PostgreSQL: set SANPO_TEST_RESTART_POSTGRES=1",
    ),
]
CLIENTS = 4
DOWN_SECONDS = 3


@dataclass
class Seen:
    answers: list[tuple[str, int, str, str]] = field(default_factory=list)  # key, status, ...
    lock: threading.Lock = field(default_factory=threading.Lock)


def _cluster() -> list[str]:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    return [version, "main"]


HTTP = urllib3.PoolManager(maxsize=CLIENTS + 1, timeout=30, retries=False)


def _write(base: str, key: Key, idempotency: str) -> urllib3.BaseHTTPResponse:
    return HTTP.request(
        "POST",
        f"{base}/api/v1/members",
        json={"member_number": f"R-{idempotency[:13]}", "kind": "household", "name": "再起 太郎"},
        headers={"Authorization": f"Bearer {key.plaintext}", "Idempotency-Key": idempotency},
    )


def _client(base: str, key: Key, seen: Seen, stop: threading.Event) -> None:
    while not stop.is_set():
        idempotency = str(uuid.uuid4())
        answer = _write(base, key, idempotency)
        code = ""
        if answer.status >= 400:
            code = answer.json()["error"]["code"]
        with seen.lock:
            seen.answers.append(
                (idempotency, answer.status, answer.headers.get("Retry-After", ""), code)
            )


def _ready(base: str) -> int:
    return HTTP.request("GET", f"{base}/health/ready/").status


def test_requests_fail_cleanly_while_postgresql_restarts_and_recover_by_themselves(
    live_server: Any, host_key: Key, settings: Any
) -> None:
    settings.SANPO_API_RATE_LIMIT_PER_MINUTE = 1_000_000  # the clients, not a limit, are tested
    base, seen, stop = live_server.url, Seen(), threading.Event()
    clients = [
        threading.Thread(target=_client, args=(base, host_key, seen, stop)) for _ in range(CLIENTS)
    ]
    for thread in clients:
        thread.start()
    try:
        time.sleep(1)  # under load
        subprocess.run(["pg_ctlcluster", *_cluster(), "stop", "-m", "fast"], check=True)  # noqa: S603, S607
        time.sleep(DOWN_SECONDS / 2)
        unready = _ready(base)
        time.sleep(DOWN_SECONDS / 2)
    finally:
        subprocess.run(["pg_ctlcluster", *_cluster(), "start"], check=True)  # noqa: S603, S607
        connection.close()  # this process's own connection died with the server
    deadline = time.monotonic() + 30
    while _ready(base) != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # and under load again
    stop.set()
    for thread in clients:
        thread.join(timeout=60)

    statuses = Counter(status for _, status, _, _ in seen.answers)
    assert unready == 503
    assert set(statuses) <= {201, 503}, statuses
    assert statuses[503] > 0, statuses
    assert statuses[201] > 0, statuses
    failed = [answer for answer in seen.answers if answer[1] == 503]
    assert {(after, code) for _, _, after, code in failed} == {("5", "service_unavailable")}
    # The service is back by itself; each refused write, sent again, takes effect once.
    for idempotency, _, _, _ in failed:
        assert _write(base, host_key, idempotency).status == 201
        assert _write(base, host_key, idempotency).status == 201  # the kept answer
    # Closing the kept-alive HTTP connections ends the server's threads and their database
    # sessions, which would otherwise keep the test database from being dropped.
    HTTP.clear()
    assert MemberAccount.objects.filter(partner=host_key.partner).count() == len(seen.answers)
    assert_stores_consistent()
