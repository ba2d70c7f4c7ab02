"""/health/: the database and the broker, 503 with a readable body when one is down."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client

from config.celery import app

UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def unreachable_broker(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", UNREACHABLE)
    saved = app.conf.get("broker_url")
    app.conf.update(broker_url=UNREACHABLE)
    yield
    app.conf.update(broker_url=saved)


def test_health_is_ok_with_the_database_and_the_broker(db: Any, settings: Any) -> None:
    response = Client().get("/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["database"]["vendor"] == connection.vendor
    broker = body["checks"]["broker"]
    assert broker["ok"] is True
    if settings.CELERY_BROKER_URL:
        assert broker["mode"] == "broker"
    else:
        assert broker["mode"].startswith("eager")
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.usefixtures("unreachable_broker")
def test_health_is_503_when_the_broker_is_unreachable(db: Any) -> None:
    response = Client().get("/health/")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"]  # the exception's type, never its message
    assert "127.0.0.1:1" not in response.content.decode()


def test_health_needs_no_authentication_and_only_answers_get(db: Any) -> None:
    client = Client()
    assert client.get("/health/", HTTP_AUTHORIZATION="Bearer nonsense").status_code == 200
    assert client.post("/health/").status_code == 405
