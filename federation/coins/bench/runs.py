"""The measured runs of the coin ledger benchmark: N threads, each with its own database
connection, posting for a fixed time; the figure is postings per second."""

from __future__ import annotations

import random
import re
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection, connections

from federation.coins.models import CoinAccount, CoinTransaction
from federation.coins.services import Grant, Leg, coins_earn, post
from partners.actors import Actor
from partners.models import Partner, Person

BASELINE = Path(__file__).with_name("baseline.sql")
SYSTEM = Actor.system()


def baseline_statements() -> list[str]:
    """The baseline's statements, in order, from ``baseline.sql`` (comments dropped)."""
    text = re.sub(r"--[^\n]*", "", BASELINE.read_text())
    return [statement.strip() for statement in text.split(";") if statement.strip()]


def throughput(clients: int, seconds: float, work: Callable[[random.Random], None]) -> float:
    """Postings per second of ``clients`` threads running ``work`` for ``seconds``."""
    done = [0] * clients
    failures: list[BaseException] = []
    start = threading.Barrier(clients + 1)
    stop = threading.Event()

    def client(n: int) -> None:
        rng = random.Random(n)
        try:
            start.wait()
            while not stop.is_set():
                work(rng)
                done[n] += 1
        except BaseException as failure:  # reported by the measuring thread
            failures.append(failure)
            stop.set()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"a benchmark client failed: {failures[0]!r}") from failures[0]
    return sum(done) / (time.perf_counter() - began)


def raw_transfer(wallets: Sequence[int]) -> Callable[[random.Random], None]:
    statements = baseline_statements()

    def work(rng: random.Random) -> None:
        low, high = sorted(rng.sample(wallets, 2))
        params: dict[str, Any] = {
            "low": low,
            "high": high,
            "low_amount": -1,
            "high_amount": 1,
            "id": uuid.uuid4(),
        }
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(statements[0], params)
            cursor.execute(statements[1], params)
            for account_id, balance, version in cursor.fetchall():
                side = "low" if account_id == low else "high"
                params[f"{side}_after"], params[f"{side}_version"] = balance, version
            cursor.execute(statements[2], params)
            cursor.execute(statements[3], params)
            cursor.execute("COMMIT")

    return work


def service_transfer(wallets: Sequence[CoinAccount]) -> Callable[[random.Random], None]:
    def work(rng: random.Random) -> None:
        source, target = rng.sample(wallets, 2)
        post(CoinTransaction.Kind.TRANSFER, [Leg(source, -1), Leg(target, 1)])

    return work


def earning(
    people: Sequence[Person], issuers: Sequence[Partner]
) -> Callable[[random.Random], None]:
    def work(rng: random.Random) -> None:
        grant = Grant(rng.choice(people), rng.choice(issuers), 1, Decimal(1))
        coins_earn(grant, actor=SYSTEM)

    return work


def read_latency(read: Callable[[], Any], times: int = 2000) -> float:
    """The median time of one ``read``, in microseconds."""
    read()
    samples = []
    for _ in range(times):
        began = time.perf_counter()
        read()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1e6
