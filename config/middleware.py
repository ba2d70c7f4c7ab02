"""Request plumbing of the whole service: the request id, the client's address behind our own
TLS proxy, and the language each kind of user is answered in.

The client's address.

Behind a proxy every request comes from the proxy's address; the audit log, and the compliance
log-in's per-address throttle, need the client's. The proxy appends the address it saw to
``X-Forwarded-For``, so the entry ``SANPO_TRUSTED_PROXY_HOPS`` from the right is the one our
outermost proxy vouches for; anything further left was sent by the client and is not trusted.
"""

import contextlib
import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation.trans_real import parse_accept_lang_header

from partners.errors import ErrorCode
from partners.preferences import saved_language
from partners.request_ids import HEADER as REQUEST_ID_HEADER
from partners.request_ids import bind_for_request, request_id_for
from partners.unavailable import RETRY_AFTER_SECONDS, database_unavailable

API_PREFIX = "/api/"
API_DEFAULT_LANGUAGE = "en"


class RequestIdMiddleware:
    """First of all: binds the request's id (``partners.request_ids``) until the request is
    finished, so every log record and every task it queues carries it, and answers it in
    ``X-Request-ID``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER))
        bind_for_request(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class DatabaseUnavailableMiddleware:
    """Pages outside the API (the consoles, the preference page, referral links) answer a
    database out of reach with 503 and ``Retry-After`` too (``partners.unavailable``): JSON
    under /api/, a short page elsewhere. The API's own views answer through its exception
    handler."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return unavailable_response(request) if database_unavailable(exception) else None


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with ``Retry-After``: the API's error shape under /api/, a short page elsewhere."""
    from partners.api.errors import error_body

    message = str(ErrorCode.SERVICE_UNAVAILABLE.label)
    if request.path.startswith(API_PREFIX):
        response: HttpResponse = JsonResponse(
            error_body(ErrorCode.SERVICE_UNAVAILABLE, message),
            status=503,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        response = HttpResponse(
            format_html("<!doctype html><title>503</title><p>{}</p>", message), status=503
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


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


def api_language(request: HttpRequest) -> str:
    """The language of an API answer: the first of Accept-Language's languages, in its order
    of preference, that the service speaks; English when it names none (machines that send
    nothing get the language the codes and field names are written in)."""
    supported = {code for code, _name in settings.LANGUAGES}
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for tag, _quality in parse_accept_lang_header(header):
        base = tag.lower().split("-")[0]
        if base in supported:
            return base
    return API_DEFAULT_LANGUAGE


class LanguageMiddleware(LocaleMiddleware):
    """Django's ``LocaleMiddleware`` (which also answers ``Content-Language`` and varies on
    ``Accept-Language``), choosing per kind of user:

    - the partner API: Accept-Language only, English by default (``api_language``);
    - people (admin, compliance pages): their saved preference when signed in (the switch
      saves it; ``partners.preferences``), then the language switch's cookie, then the
      browser's Accept-Language, then Japanese (``settings.LANGUAGE_CODE``).

    The member's preference page chooses for itself (``?lang=``), inside this. Runs after
    ``SessionMiddleware``, whose session carries the saved preference.
    """

    def process_request(self, request: HttpRequest) -> None:
        if request.path.startswith(API_PREFIX):
            language = api_language(request)
        else:
            language = saved_language(request) or translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
