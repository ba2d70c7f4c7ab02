"""What the service's own log handler (``settings.LOGGING``'s console) writes, read back by a
test: the handler keeps its formatter and filters, only its stream is swapped."""

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


@contextmanager
def every_log_record() -> Iterator[list[logging.LogRecord]]:
    """Every record any logger makes in the block, at DEBUG, whether or not a handler would
    write it (a logger that does not propagate, a level set higher): every logger is lowered to
    DEBUG, and the record factory keeps what it makes."""
    records: list[logging.LogRecord] = []
    make = logging.getLogRecordFactory()

    def keep(*args: object, **kwargs: object) -> logging.LogRecord:
        record = make(*args, **kwargs)
        records.append(record)
        return record

    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    levels = [(logger, logger.level) for logger in loggers]
    logging.setLogRecordFactory(keep)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        logging.setLogRecordFactory(make)
        for logger, level in levels:
            logger.setLevel(level)


def _formatters() -> list[logging.Formatter]:
    from django.conf import settings
    from django.utils.module_loading import import_string

    configured: dict[str, dict[str, Any]] = settings.LOGGING["formatters"]  # type: ignore[assignment]
    formatters = []
    for config in configured.values():
        options = dict(config)
        factory = import_string(options.pop("()")) if "()" in options else logging.Formatter
        if "format" in options:
            options["fmt"] = options.pop("format")
        formatters.append(factory(**options))
    return formatters


def record_text(record: logging.LogRecord) -> str:
    """All the console handler could write of ``record``, in every format of ``settings.LOGGING``
    (plain and JSON: its message, exception and traceback, and its ``extra`` attributes),
    after the handler's filters."""
    for log_filter in console_handler().filters:
        log_filter.filter(record)  # type: ignore[union-attr]
    return "\n".join(formatter.format(record) for formatter in _formatters())
