"""The coin benchmark's HTTP runs: the partner API under gunicorn, started and stopped here,
with clients on loopback (urllib3, one connection pool per client thread) timing each request.

The server runs with production settings (DEBUG off, several sync workers, as the README's
deployment line starts it) against the benchmark's database; the differences are the fuzz
run's: plain http on loopback, and a rate limit the clients cannot reach.
"""

from __future__ import annotations

import math
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import urllib3
from django.conf import settings

from federation.coins.bench.runs import throughput

WORKERS = 4
READY_SECONDS = 30.0
STOP_SECONDS = 30.0
REQUEST_TIMEOUT = urllib3.Timeout(connect=5.0, read=30.0)
# What the fuzz run changes from production, and nothing else.
SERVER_ENV = {
    "DEBUG": "false",
    "SANPO_BEHIND_TLS": "false",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SANPO_API_RATE_LIMIT_PER_MINUTE": "100000000",
    "LOG_LEVEL": "WARNING",
}


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0 < q <= 100) of ``samples`` by the nearest-rank method: the
    smallest sample with at least q% of all samples at or below it."""
    if not samples:
        raise ValueError("no samples")
    if not 0 < q <= 100:
        raise ValueError("q must be in (0, 100]")
    ordered = sorted(samples)
    # In decimal: in binary floating point 7 / 100 * 100 is 7.000000000000001, rank 8.
    return ordered[math.ceil(Decimal(str(q)) * len(ordered) / 100) - 1]


@dataclass(frozen=True)
class Server:
    """A running gunicorn: where it listens, and the key its clients send."""

    port: int
    key: str
    workers: int

    def pool(self) -> urllib3.HTTPConnectionPool:
        return urllib3.HTTPConnectionPool(
            "127.0.0.1", self.port, maxsize=1, retries=False, timeout=REQUEST_TIMEOUT
        )

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}


@contextmanager
def served(
    key: str, workers: int = WORKERS, settings_module: str = "", port: int = 0
) -> Iterator[Server]:
    """gunicorn on ``port`` (0: a free loopback port), serving this process's database, until
    the block ends; its log is shown if it does not come up. ``settings_module`` replaces the
    configured settings (a benchmark's own, adding a baseline view production never has)."""
    port = port or _free_port()
    env = {**os.environ, **SERVER_ENV}
    if settings_module:
        env["DJANGO_SETTINGS_MODULE"] = settings_module
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(  # noqa: S603 - our own WSGI application
            [sys.executable, "-m", "gunicorn", "config.wsgi", *_options(port, workers)],
            env=env,
            cwd=Path(settings.BASE_DIR),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_ready(process, port, log)
            yield Server(port=port, key=key, workers=workers)
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _options(port: int, workers: int) -> list[str]:
    return [f"--bind=127.0.0.1:{port}", f"--workers={workers}", "--timeout=60"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_ready(process: subprocess.Popen[Any], port: int, log: IO[str]) -> None:
    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, retries=False, timeout=2.0)
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if pool.request("GET", "/health/").status == 200:
                return
        except urllib3.exceptions.HTTPError:
            pass
        time.sleep(0.2)
    log.seek(0)
    raise RuntimeError(f"gunicorn did not answer /health/ on port {port}:\n{log.read()[-4000:]}")


@dataclass(frozen=True)
class Call:
    """One request a client sends: its label in the report, and what must come back."""

    label: str
    method: str
    path: str
    body: bytes | None = None
    expect: int = 200


@dataclass
class Timings:
    """Seconds per request, by label, in the order they completed."""

    by_label: dict[str, list[float]] = field(default_factory=dict)

    def add(self, label: str, seconds: float) -> None:
        self.by_label.setdefault(label, []).append(seconds)

    def all(self) -> list[float]:
        return [seconds for samples in self.by_label.values() for seconds in samples]


def load(
    server: Server, clients: int, seconds: float, calls: Callable[[random.Random], Call]
) -> tuple[float, Timings]:
    """``clients`` threads sending ``calls`` for ``seconds`` after a warm-up of the same
    length: requests per second and the measured requests' timings. Any unexpected status
    stops the run."""
    timings = Timings()
    local = threading.local()
    headers = server.headers()

    def work(rng: random.Random) -> None:
        if not hasattr(local, "pool"):
            local.pool = server.pool()
        call = calls(rng)
        sent = headers if call.method == "GET" else {**headers, "Idempotency-Key": _key()}
        began = time.perf_counter()
        response = local.pool.request(call.method, call.path, body=call.body, headers=sent)
        elapsed = time.perf_counter() - began
        if response.status != call.expect:
            raise RuntimeError(f"{call.label} answered {response.status}: {response.data[:300]!r}")
        timings.add(call.label, elapsed)

    throughput(clients, seconds, work)  # warm-up: every worker connected and imported
    timings.by_label.clear()
    return throughput(clients, seconds, work), timings


def summary(samples: Sequence[float]) -> str:
    """p50, p95 and p99 of ``samples`` (seconds), in milliseconds."""
    figures = "  ".join(f"p{q} {percentile(samples, q) * 1000:>6.1f}" for q in (50, 95, 99))
    return f"{figures} ms"


@dataclass(frozen=True)
class Load:
    """How a run drives the API: the key its clients send, the server's workers, how many
    clients, for how long."""

    key: str
    workers: int
    clients: int
    seconds: float

    def run(self, calls: Callable[[random.Random], Call]) -> tuple[float, Timings]:
        return self.runs([calls])[0]

    def runs(self, each: Sequence[Callable[[random.Random], Call]]) -> list[tuple[float, Timings]]:
        """Each of ``each`` in turn against one server started for them."""
        with served(self.key, self.workers) as server:
            return [load(server, self.clients, self.seconds, calls) for calls in each]


def _key() -> str:
    return f"bench-{uuid.uuid4().hex}"
