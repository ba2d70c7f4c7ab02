"""The request id: one per request served, on every log record written while it is served and
carried into every task it queues, so an operator follows one request from the web process into
the workers (README, "Operation").

``config.middleware.RequestIdMiddleware`` takes the caller's (or our proxy's) ``X-Request-ID``
when it is well formed, else makes a uuid4, and binds it here until the request is finished
(Django logs a 4xx or 5xx answer after the middleware returned it). A task published
while an id is bound carries it in a message header (``before_task_publish``); the worker binds
it again for the task's run (``task_prerun``) and unbinds it after (``task_postrun``). The
outbox stores it with the message (``OutboxMessage.request_id``), so the relay publishes a late
message under the id of the request that wrote it.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

HEADER = "X-Request-ID"
# The name of the Celery message header; it reaches the worker as ``task.request.<name>``.
TASK_HEADER = "sanpo_request_id"
MAX_LENGTH = 128
# It goes into logs and a response header as sent, so only characters that cannot break either
# (no spaces, quotes, control characters or line breaks), and never longer than a log can bear.
_WELL_FORMED = re.compile(rf"[A-Za-z0-9._:-]{{1,{MAX_LENGTH}}}")
NO_REQUEST = "-"

_current: ContextVar[str | None] = ContextVar("sanpo_request_id", default=None)


def well_formed(value: object) -> str | None:
    """``value`` when it may serve as a request id, else None."""
    if isinstance(value, str) and _WELL_FORMED.fullmatch(value):
        return value
    return None


def request_id_for(incoming: str | None) -> str:
    """The id of a request that sent ``incoming`` as its X-Request-ID: kept when well formed,
    otherwise a new one."""
    return well_formed(incoming) or str(uuid.uuid4())


def current_request_id() -> str | None:
    """The id bound in this context (a request, or a task run), or None."""
    return _current.get()


def bind_for_request(request_id: str) -> None:
    """Bind ``request_id`` until ``request_finished`` (``unbind_after_request``)."""
    _current.set(request_id)


def unbind_after_request(**_: Any) -> None:
    _current.set(None)


@contextmanager
def request_id_bound(request_id: str | None) -> Iterator[None]:
    """Bind ``request_id`` for the block (None: no id), and restore what was bound before."""
    token = _current.set(request_id)
    try:
        yield
    finally:
        _current.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts ``request_id`` on every record that passes (``-`` outside any request or task), so
    a format may name it. Attached to the handlers in ``settings.LOGGING``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current.get() or NO_REQUEST
        return True


# --- Signals (connected in PartnersConfig.ready, so in web processes and workers alike) ---


def put_request_id_on_message(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = _current.get()
    if request_id is not None and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def bind_request_id_for_task(task: Any = None, **_: Any) -> None:
    # An eager task runs inside the request that called it, whose id is already bound.
    if task is None or task.request.is_eager:
        return
    _current.set(well_formed(getattr(task.request, TASK_HEADER, None)))


def unbind_request_id_after_task(task: Any = None, **_: Any) -> None:
    if task is None or task.request.is_eager:
        return
    _current.set(None)


def connect_signals() -> None:
    from celery.signals import before_task_publish, task_postrun, task_prerun
    from django.core.signals import request_finished

    request_finished.connect(unbind_after_request, dispatch_uid=f"{__name__}.finished")
    before_task_publish.connect(put_request_id_on_message, dispatch_uid=f"{__name__}.publish")
    task_prerun.connect(bind_request_id_for_task, dispatch_uid=f"{__name__}.prerun")
    task_postrun.connect(unbind_request_id_after_task, dispatch_uid=f"{__name__}.postrun")
