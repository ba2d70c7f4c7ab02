"""Test workers side by side (tests/xdist_workers.py): each its own Redis databases."""

import os
from itertools import combinations

import pytest
import redis

from tests.xdist_workers import REDIS_DATABASES, TooManyWorkersError, worker_redis_urls

CI = {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/0", "REDIS_URL": "redis://127.0.0.1:6379/1"}


def test_ci_databases_move_up_two_per_worker() -> None:
    assert worker_redis_urls(CI, 0) == CI
    assert worker_redis_urls(CI, 1) == {
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/2",
        "REDIS_URL": "redis://127.0.0.1:6379/3",
    }
    assert worker_redis_urls(CI, 7)["REDIS_URL"] == "redis://127.0.0.1:6379/15"


def test_a_worker_past_the_last_database_is_refused_with_the_reason() -> None:
    with pytest.raises(TooManyWorkersError, match="gw8 would use Redis database 16"):
        worker_redis_urls(CI, 8)


def test_a_url_keeps_its_password_host_and_options() -> None:
    url = "redis://:secret@cache.internal:6380/4?socket_timeout=5"
    assert worker_redis_urls({"REDIS_URL": url}, 3) == {
        "REDIS_URL": "redis://:secret@cache.internal:6380/7?socket_timeout=5"
    }


def test_a_url_without_a_database_number_is_database_0() -> None:
    assert worker_redis_urls({"REDIS_URL": "redis://localhost"}, 2) == {
        "REDIS_URL": "redis://localhost/2"
    }


@pytest.mark.parametrize(("broker", "cache"), [(0, 1), (1, 0), (2, 5), (3, 3), (0, 4)])
def test_no_two_workers_share_a_database_and_broker_and_cache_stay_apart(
    broker: int, cache: int
) -> None:
    given = {"CELERY_BROKER_URL": f"redis://h/{broker}", "REDIS_URL": f"redis://h/{cache}"}
    workers = []
    for worker in range(REDIS_DATABASES):
        try:
            workers.append(set(worker_redis_urls(given, worker).values()))
        except TooManyWorkersError:
            break
    assert len(workers) >= 2
    for one, other in combinations(workers, 2):
        assert not one & other
    if broker != cache:
        assert all(len(urls) == 2 for urls in workers)


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the cache is in memory")
def test_the_cache_writes_to_the_redis_database_this_worker_was_given() -> None:
    from django.core.cache import cache

    cache.set("xdist-probe", os.environ.get("PYTEST_XDIST_WORKER", "serial"))
    own = redis.Redis.from_url(os.environ["REDIS_URL"])
    assert own.keys("*xdist-probe")


@pytest.mark.skipif(not os.environ.get("CELERY_BROKER_URL"), reason="tasks run eagerly")
def test_celery_and_the_settings_name_the_broker_this_worker_was_given() -> None:
    from django.conf import settings

    from config.celery import app

    given = os.environ["CELERY_BROKER_URL"]
    assert app.conf.broker_url == settings.CELERY_BROKER_URL == given
    with app.connection_for_write() as connection:
        assert connection.as_uri(include_password=True) == given
