"""What the service's own log handler (``settings.LOGGING``'s console) writes, read back by a
test: the handler keeps its formatter and filters, only its stream is swapped."""

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from partners.request_ids import RequestIdFilter


def console_handler() -> logging.StreamHandler:
    """The handler ``settings.LOGGING`` puts on the root logger."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and any(
            isinstance(f, RequestIdFilter) for f in handler.filters
        ):
            return handler
    raise AssertionError("settings.LOGGING configured no console handler with the request id")


@contextmanager
def console_output() -> Iterator[io.StringIO]:
    """Everything the console handler writes in the block, as it would reach standard error."""
    handler = console_handler()
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)
