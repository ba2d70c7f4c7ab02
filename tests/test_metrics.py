"""``/metrics`` (``config.metrics``): Prometheus's text format with the operator's figures, read
by whoever holds SANPO_METRICS_TOKEN, or from this host alone when it is unset."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from partners import services
from partners.actors import Actor
from partners.models import OutboxMessage, Partner, WebhookDelivery
from tests.conftest import Key, client_for


def _scrape(
    client: Client | None = None, **headers: str
) -> dict[tuple[str, tuple[Any, ...]], float]:
    response = (client or Client()).get("/metrics", headers=headers)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples: dict[tuple[str, tuple[Any, ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
def test_the_scrape_shows_requests_checks_webhooks_outbox_and_settlement(
    partner: Partner, partner_key: Key
) -> None:
    before = _scrape()
    for _ in range(3):
        assert Client().get("/health/live/").status_code == 200
    check = client_for(partner_key).post(
        "/api/v1/consent/check",
        {"purpose": "cross_enrollment", "members": ["NOBODY-1", "NOBODY-2"]},
        format="json",
    )
    assert check.status_code == 200
    endpoint = services.webhook_endpoint_create(
        partner=partner,
        url="http://127.0.0.1:9/sanpo",  # never called
        events=["api_key.issued"],
        actor=Actor.system(),
    ).endpoint
    for state in ("pending", "pending", "failed"):
        WebhookDelivery.objects.create(
            event_id="6f1a4f7e-8a47-4b8b-9f6c-5a0f1c2d3e4f",
            event_type="api_key.issued",
            payload={},
            endpoint=endpoint,
            state=state,
        )
    OutboxMessage.objects.create(
        task_name="partners.tasks.relay_outbox", created_at=timezone.now() - timedelta(minutes=5)
    )

    after = _scrape()

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    live = {"route": "health-live", "method": "GET"}
    assert grew("sanpo_http_requests_total", **live, status="200") == 3
    assert grew("sanpo_http_request_duration_seconds_count", **live) == 3
    assert _value(after, "sanpo_http_request_duration_seconds_sum", **live) > 0
    assert grew("sanpo_consent_checks_total") == 1
    assert grew("sanpo_consent_check_decisions_total", reason="not_found") == 2
    assert _value(after, "sanpo_webhook_backlog") == 2
    assert _value(after, "sanpo_webhook_deliveries_last_day", state="failed") == 1
    assert _value(after, "sanpo_outbox_unsent") == 1
    assert 290 < _value(after, "sanpo_outbox_lag_seconds") < 900
    assert ("sanpo_settlement_periods", (("state", "draft"),)) in after
    for source in ("webhooks", "outbox", "settlement"):
        assert _value(after, "sanpo_metrics_source_up", source=source) == 1


@pytest.mark.django_db
def test_a_route_is_named_and_an_odd_method_counted_as_other() -> None:
    odd = {"route": "health-live", "method": "other", "status": "405"}
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    before = _scrape()
    Client().generic("BREW", "/health/live/")
    Client().get("/no/such/page")
    after = _scrape()
    for labels in (odd, unmatched):
        total = "sanpo_http_requests_total"
        assert _value(after, total, **labels) - _value(before, total, **labels) == 1


@pytest.mark.broker
@pytest.mark.django_db
def test_the_queue_length_is_read_from_the_broker() -> None:
    from config.celery import app
    from config.metrics import queue_names

    queue = app.conf.task_default_queue
    before = _value(_scrape(), "sanpo_celery_queue_length", queue=queue)
    app.tasks["partners.tasks.purge_expired_idempotency_keys"].apply_async(queue=queue)
    try:
        after = _scrape()
        assert _value(after, "sanpo_celery_queue_length", queue=queue) == before + 1
        assert all(("sanpo_celery_queue_length", (("queue", q),)) in after for q in queue_names())
        assert _value(after, "sanpo_metrics_source_up", source="broker") == 1
    finally:
        app.control.purge()


@pytest.mark.parametrize(
    ("address", "headers"),
    [
        ("10.0.0.5", {}),
        ("203.0.113.9", {}),
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}),  # a proxy on this host passed it on
    ],
)
def test_without_a_token_only_this_host_may_scrape(address: str, headers: dict[str, str]) -> None:
    response = Client(REMOTE_ADDR=address).get("/metrics", headers=headers)
    assert response.status_code == 403
    assert b"sanpo_" not in response.content


@pytest.mark.django_db
def test_with_a_token_only_its_bearer_may_scrape(settings: Any) -> None:
    settings.SANPO_METRICS_TOKEN = "s3cret-metrics-token"
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "s3cret-metrics-token"},
    ):
        response = Client().get("/metrics", headers=headers)  # from this host too
        assert response.status_code == 401, headers
        assert b"sanpo_" not in response.content
    samples = _scrape(Client(REMOTE_ADDR="10.0.0.5"), Authorization="Bearer s3cret-metrics-token")
    assert any(name == "sanpo_http_requests_total" for name, _ in samples)
