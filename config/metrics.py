"""Prometheus metrics for the operator at ``/metrics`` (README, "Operation"), with the
prometheus-client library.

Counted as they happen, per process: HTTP requests and their latencies by route name, method
and status (``MetricsMiddleware``), and consent checks (``consent.api.check``). Read at scrape
time by ``OperatorCollector``, each with one cheap query on an index: Celery's queue lengths in
the Redis broker, the webhook backlog and recent failures, the outbox's lag, and settlement
periods by state. Under gunicorn with several workers, set ``PROMETHEUS_MULTIPROC_DIR`` (an
empty directory per host) so that a scrape adds up the counts of every worker.

Who may scrape: with ``SANPO_METRICS_TOKEN`` set, whoever sends it as a bearer token; unset,
only a client on this host (a loopback address, not forwarded by a proxy).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

REQUESTS = Counter(
    "sanpo_http_requests",
    "HTTP requests answered, by route name, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "sanpo_http_request_duration_seconds",
    "Time to answer an HTTP request, by route name and method.",
    ["route", "method"],
)
# Anything else a client may send as a method is counted as one label, not one each.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# kombu's Redis transport keeps a queue's messages of priority 3, 6 and 9 in lists of their own.
REDIS_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")
RECENT = timedelta(days=1)


def route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = route_of(request)
        method = request.method if request.method in METHODS else "other"
        LATENCY.labels(route, method).observe(time.perf_counter() - started)
        REQUESTS.labels(route, method, str(response.status_code)).inc()
        return response


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _by_state(name: str, documentation: str, counts: dict[str, int], states: list[str]) -> Metric:
    family = GaugeMetricFamily(name, documentation, labels=["state"])
    for state in states:
        family.add_metric([state], counts.get(state, 0))
    return family


def queue_names() -> list[str]:
    from config.celery import app

    names = {app.conf.task_default_queue}
    names.update(queue.name for queue in app.conf.task_queues or ())
    return sorted(names)


def _queues() -> Iterator[Metric]:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return  # eager (no broker), or a broker whose queues are not Redis lists
    import redis

    family = GaugeMetricFamily(
        "sanpo_celery_queue_length", "Task messages waiting in a broker queue.", labels=["queue"]
    )
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        pipe = client.pipeline(transaction=False)
        names = queue_names()
        for name in names:
            for suffix in REDIS_PRIORITY_SUFFIXES:
                pipe.llen(name + suffix)
        lengths = pipe.execute()
    finally:
        client.close()
    step = len(REDIS_PRIORITY_SUFFIXES)
    for index, name in enumerate(names):
        family.add_metric([name], sum(lengths[index * step : (index + 1) * step]))
    yield family


def _webhooks() -> Iterator[Metric]:
    from partners.models import WebhookDelivery

    pending = WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING)
    yield _gauge(
        "sanpo_webhook_backlog",
        "Webhook deliveries not yet delivered nor given up.",
        pending.count(),
    )
    recent = (
        WebhookDelivery.objects.filter(created_at__gte=timezone.now() - RECENT)
        .values("state")
        .annotate(n=Count("pk"))
    )
    yield _by_state(
        "sanpo_webhook_deliveries_last_day",
        "Webhook deliveries created in the last 24 hours, by state (failed: given up).",
        {row["state"]: row["n"] for row in recent},
        list(WebhookDelivery.State.values),
    )


def _outbox() -> Iterator[Metric]:
    from partners.models import OutboxMessage

    unsent = OutboxMessage.objects.filter(sent_at__isnull=True).aggregate(
        n=Count("pk"), oldest=Min("created_at")
    )
    yield _gauge("sanpo_outbox_unsent", "Outbox messages not yet sent to the broker.", unsent["n"])
    oldest = unsent["oldest"]
    lag = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    yield _gauge("sanpo_outbox_lag_seconds", "Age of the oldest unsent outbox message.", lag)


def _settlement() -> Iterator[Metric]:
    from federation.settlement.models import SettlementPeriod

    rows = SettlementPeriod.objects.values("state").annotate(n=Count("pk"))
    yield _by_state(
        "sanpo_settlement_periods",
        "Settlement periods (runs) by state.",
        {row["state"]: row["n"] for row in rows},
        list(SettlementPeriod.State.values),
    )


class OperatorCollector(Collector):
    """The gauges read at scrape time. A source out of reach (the database, the broker) leaves
    its metrics out and says so in ``sanpo_metrics_source_up``; the others still answer."""

    SOURCES = {
        "broker": _queues,
        "webhooks": _webhooks,
        "outbox": _outbox,
        "settlement": _settlement,
    }

    def describe(self) -> Iterator[Metric]:
        """Nothing ahead: without this, registering the collector would collect once, querying
        the database as every process starts (before a fresh one is even migrated)."""
        return iter(())

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "sanpo_metrics_source_up", "Whether a source could be read.", labels=["source"]
        )
        for name, source in self.SOURCES.items():
            try:
                metrics = list(source())
            except Exception:
                logger.warning("Metrics: %s could not be read", name, exc_info=True)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from metrics
        yield up


OPERATOR = OperatorCollector()
REGISTRY.register(OPERATOR)


def _registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(OPERATOR)
    return registry


def _on_this_host(request: HttpRequest) -> bool:
    if "HTTP_X_FORWARDED_FOR" in request.META:  # a proxy on this host passed it on
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _refusal(request: HttpRequest) -> HttpResponse | None:
    token: str = settings.SANPO_METRICS_TOKEN
    if not token:
        return None if _on_this_host(request) else HttpResponse(status=403)
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(sent.encode(), token.encode()):
        return None
    response = HttpResponse(status=401)
    response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
