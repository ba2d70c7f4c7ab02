"""The client's address behind our own TLS proxy.

Behind a proxy every request comes from the proxy's address; the audit log, and the compliance
log-in's per-address throttle, need the client's. The proxy appends the address it saw to
``X-Forwarded-For``, so the entry ``SANPO_TRUSTED_PROXY_HOPS`` from the right is the one our
outermost proxy vouches for; anything further left was sent by the client and is not trusted.
"""

import contextlib
import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ProxiedClientAddressMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.hops: int = settings.SANPO_TRUSTED_PROXY_HOPS

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.hops:
            forwarded = [
                part.strip()
                for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                if part.strip()
            ]
            if len(forwarded) >= self.hops:
                candidate = forwarded[-self.hops]
                with contextlib.suppress(ValueError):  # not an address: keep the proxy's own
                    request.META["REMOTE_ADDR"] = str(ipaddress.ip_address(candidate))
        return self.get_response(request)
