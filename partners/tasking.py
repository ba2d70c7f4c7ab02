"""Handing work to Celery from a service, by the task's name, through a transactional outbox.

Tasks are thin: they take ids, load rows and call services. A service that queues work
therefore names its task rather than importing it, since the import would run both ways (a
cycle, which import-linter refuses). Each app's ``AppConfig.ready`` imports its ``tasks``
module, so every name is registered in the web process and the workers alike; an unknown name
fails loudly in the service's own tests.

``enqueue_on_commit`` writes the task into the outbox (``OutboxMessage``) in the caller's
transaction and sends it once the transaction commits. A process killed between the commit
and the send, or a broker that is down, leaves the message unsent; the relay
(``outbox_relay``, every minute from beat) sends it later, taking due messages with
``FOR UPDATE SKIP LOCKED`` so that relays on several hosts never send one twice. A message
sent by its process whose ``sent_at`` did not reach the database (killed in between) may be
sent again by the relay: every task is idempotent (it loads its rows and does what is left),
so the work is done once. A change that rolls back leaves no message. A message keeps the id of
the request that queued it (``partners.request_ids``) and is published under it, however late.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import current_app
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from partners.models import OutboxMessage
from partners.request_ids import current_request_id, request_id_bound

logger = logging.getLogger(__name__)
# What a broker out of reach raises when a message is published: kombu's own error, or the
# socket's (a refused or reset connection) when kombu lets it through.
BROKER_DOWN = (BrokerError, ConnectionError, OSError)


def enqueue(task_name: str, *args: Any, **options: Any) -> None:
    """Queue ``task_name(*args)`` now (run in-process when Celery is eager)."""
    current_app.tasks[task_name].apply_async(args, **options)


def enqueue_on_commit(task_name: str, *args: Any) -> None:
    """Queue ``task_name(*args)`` once the current transaction commits: nothing runs for a
    change that rolled back, the task always finds the rows the change wrote, and committed
    work is never lost (the outbox keeps it until it reached the broker)."""
    current_app.tasks[task_name]
    request_id = current_request_id() or ""
    message = OutboxMessage.objects.create(
        task_name=task_name, args=list(args), request_id=request_id
    )
    transaction.on_commit(_sender(message.pk, task_name, args, request_id))


def _sender(
    pk: int, task_name: str, args: tuple[Any, ...], request_id: str
) -> Callable[[], object]:
    return lambda: send(pk, task_name, args, request_id=request_id)


def send(
    pk: int, task_name: str, args: tuple[Any, ...] | list[Any], *, request_id: str = ""
) -> bool:
    """Send one outbox message, under the id of the request that queued it, and mark it sent;
    False (and left for the relay) when the broker is out of reach."""
    with request_id_bound(request_id or None):
        try:
            enqueue(task_name, *args, retry=False)
        except BROKER_DOWN as exc:
            logger.warning("Broker out of reach; %s stays in the outbox: %s", task_name, exc)
            return False
    OutboxMessage.objects.filter(pk=pk, sent_at__isnull=True).update(sent_at=timezone.now())
    return True
