"""Test processes side by side: each pytest-xdist worker (``make test`` runs ``-n auto``) gets a
PostgreSQL database and Redis databases of its own.

pytest-django names each worker's test database after it (``test_sanpo_gw0``, ``test_sanpo_gw1``,
...); LISTEN/NOTIFY channels (the consent cache) and advisory locks belong to one database, so
those are the worker's own too. Redis databases are not: the tests flush the cache before each
test, purge the broker's queues and run Celery workers that would take another process's tasks.
So worker ``gwN`` moves the database numbers of ``CELERY_BROKER_URL`` and ``REDIS_URL`` up by
``N`` blocks, a block spanning the numbers given: CI's broker 0 and cache 1 stay 0 and 1 for
``gw0`` and become 2 and 3 for ``gw1``, 4 and 5 for ``gw2``, and so on up to ``gw7`` in Redis's
16 databases. A worker that would go past them stops the run with a message before any test.

The moved URLs go into the environment too: Celery reads ``CELERY_BROKER_URL`` from there before
its configuration, and a worker process a test starts inherits them.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

REDIS_DATABASES = 16  # Redis's default `databases`
REDIS_URLS = ("CELERY_BROKER_URL", "REDIS_URL")


class TooManyWorkersError(Exception):
    pass


def _database(url: str) -> int:
    path = urlsplit(url).path.strip("/")
    return int(path) if path else 0


def worker_redis_urls(urls: dict[str, str], worker: int) -> dict[str, str]:
    """The Redis URLs of worker ``gw<worker>``: each URL's database number moved up by
    ``worker`` blocks of ``max - min + 1`` numbers, so no two workers share a database and a
    worker's broker and cache stay apart when they were given apart.

    Raises TooManyWorkersError when a number would pass Redis's last database."""
    if not urls:
        return {}
    numbers = {name: _database(url) for name, url in urls.items()}
    block = max(numbers.values()) - min(numbers.values()) + 1
    moved = {}
    for name, url in urls.items():
        number = numbers[name] + worker * block
        if number >= REDIS_DATABASES:
            raise TooManyWorkersError(
                f"Test worker gw{worker} would use Redis database {number} for {name}, past the "
                f"{REDIS_DATABASES} Redis has: give fewer workers (-n) or lower database numbers "
                f"({', '.join(f'{n}={u}' for n, u in urls.items())})."
            )
        moved[name] = urlunsplit(urlsplit(url)._replace(path=f"/{number}"))
    return moved


def _given() -> dict[str, str]:
    return {name: os.environ[name] for name in REDIS_URLS if os.environ.get(name)}


def check_redis_databases_for(workers: int) -> None:
    """Raise TooManyWorkersError, before any worker starts, if the last would pass Redis's
    last database."""
    worker_redis_urls(_given(), workers - 1)


def use_worker_redis_databases(worker: int) -> dict[str, str]:
    """Point this process's settings, Celery and environment at worker ``gw<worker>``'s Redis
    databases (before any test, so before any cache or broker connection); return them."""
    from django.conf import settings
    from django.core.cache import caches

    from config.celery import app

    given = _given()
    moved = worker_redis_urls(given, worker)
    os.environ.update(moved)
    if "CELERY_BROKER_URL" in moved:
        settings.CELERY_BROKER_URL = moved["CELERY_BROKER_URL"]
        app.conf.update(broker_url=moved["CELERY_BROKER_URL"])
    if "REDIS_URL" in moved:
        if caches.all(initialized_only=True):
            raise RuntimeError(
                "A cache was opened before the test worker chose its Redis database."
            )
        for options in settings.CACHES.values():
            if options.get("LOCATION") == given["REDIS_URL"]:
                # The cache handler holds this very dict: the caches it makes from now on read it.
                options["LOCATION"] = moved["REDIS_URL"]
    return moved
