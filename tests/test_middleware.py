"""Behind our TLS proxy, the client's address is the one the proxy appended, never one the
client wrote into X-Forwarded-For itself."""

from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from config.middleware import ProxiedClientAddressMiddleware


def _address(settings: Any, hops: int, forwarded: str | None) -> str:
    settings.SANPO_TRUSTED_PROXY_HOPS = hops
    seen: dict[str, str] = {}

    def view(request: HttpRequest) -> HttpResponse:
        seen["address"] = request.META["REMOTE_ADDR"]
        return HttpResponse()

    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2")
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    ProxiedClientAddressMiddleware(view)(request)
    return seen["address"]


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the client forged the first entry
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (1, None, "10.0.0.2"),
        (1, "not-an-address", "10.0.0.2"),
        (0, "203.0.113.7", "10.0.0.2"),  # no proxy of ours: the header is the client's own
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_is_the_one_our_proxy_vouches_for(
    settings: Any, hops: int, forwarded: str | None, expected: str
) -> None:
    assert _address(settings, hops, forwarded) == expected
