"""Logging in to the compliance pages, with guessers turned away for a while."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse

from consent.compliance.access import (
    LOGIN_LOCKOUT_SECONDS,
    login_failure_record,
    login_failures_forget,
    login_locked_out,
)

logger = logging.getLogger(__name__)


def _client_address(request: HttpRequest) -> str:
    # The address the audit log records too: behind our TLS proxy, the client's, as
    # config.middleware takes it from the entry the proxy appended to X-Forwarded-For.
    return str(request.META.get("REMOTE_ADDR", ""))


class ComplianceLoginView(LoginView):
    """Django's log-in form, which turns guessers away for a while: after
    ``LOGIN_FAILURES_ALLOWED`` failures for a user name (in any case) or from an address, the
    next attempts get a 429 without their password being checked at all, even a right one.

    Failed log-ins go to the application log, not the audit log: ``AuditEvent`` has no action
    for them. The user name is logged, never the password.
    """

    template_name = "compliance/login.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = str(request.POST.get("username", ""))
        address = _client_address(request)
        if not login_locked_out(username=username, ip=address):
            return super().post(request, *args, **kwargs)
        logger.warning(
            "Compliance log-in refused, too many failures: user name %r from %s",
            username[:200],
            address,
        )
        # An unbound form: showing a bound one's errors would check the password after all.
        form = self.get_form_class()(request, initial={"username": username})
        context = self.get_context_data(form=form, locked_out=True)
        response = self.render_to_response(context, status=429)
        response["Retry-After"] = str(LOGIN_LOCKOUT_SECONDS)
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        username = str(form.data.get("username", ""))
        address = _client_address(self.request)
        login_failure_record(username=username, ip=address)
        logger.warning("Compliance log-in failed: user name %r from %s", username[:200], address)
        return super().form_invalid(form)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        login_failures_forget(username=form.cleaned_data["username"])
        return super().form_valid(form)
