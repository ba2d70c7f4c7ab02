"""Filters of the log handlers in ``settings.LOGGING``."""

import logging

from django.http import HttpRequest


class RequestRouteFilter(logging.Filter):
    """Django logs each 4xx and 5xx answer as ``<reason>: <path>``. A path holds whatever the
    caller put in it (an e-mail address where a member number goes, say), and personal data is
    never logged: the line names the route instead, and the request id finds the request."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        args = record.args
        if (
            isinstance(request, HttpRequest)
            and isinstance(args, tuple)
            and len(args) == 2
            and args[1] == request.path
        ):
            match = request.resolver_match
            record.args = (args[0], f"route {match.route if match else '(none)'}")
        return True
