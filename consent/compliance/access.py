"""Who may use the compliance pages: compliance reviewers, and nobody else; and how often
anyone may guess a password at their log-in form.

Reviewers are not ``is_staff`` (they never use the admin), so neither the admin's decorators
nor ``staff_member_required`` fit; this one checks the Sanpo role itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse

from partners.access import has_staff_role
from partners.models import StaffRole

View = Callable[..., HttpResponseBase]


def is_compliance_reviewer(user: Any) -> bool:
    """True for an authenticated, active user whose Sanpo role is compliance reviewer."""
    return has_staff_role(user, StaffRole.Role.COMPLIANCE_REVIEWER)


def compliance_reviewer_required(view: View, *, return_to: str = "") -> View:
    """Anonymous visitors go to the compliance log-in page; any other role gets a 403 page
    (with a log-out button, so someone signed in with the wrong account can switch).

    After logging in, visitors come back to the address they asked for, query included, or
    to the page named by ``return_to`` (a URL name): for the member search, whose query
    string may hold an e-mail address that must not travel on into the ``next`` parameter.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            back = reverse(return_to) if return_to else request.get_full_path()
            return redirect_to_login(back, reverse("compliance:login"))
        if not is_compliance_reviewer(request.user):
            return render(request, "compliance/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


# --- Log-in throttling ------------------------------------------------------------------------

LOGIN_FAILURES_ALLOWED = 5
LOGIN_WINDOW_SECONDS = 15 * 60
LOGIN_LOCKOUT_SECONDS = 15 * 60


def _login_counter_keys(*, username: str, ip: str) -> tuple[str, str]:
    # The user name is hashed: a typed one may hold anything (spaces, control characters,
    # 10,000 letters), and cache keys must be short and plain.
    name = hashlib.sha256(username.casefold().encode()).hexdigest()
    return f"compliance-login:user:{name}", f"compliance-login:ip:{ip}"


def login_locked_out(*, username: str, ip: str) -> bool:
    """True while the user name (in any case) or the address has used up its failed log-ins.

    The counters live in Django's cache, Redis in production, so the limit holds across every
    web process; a per-process memory cache (no ``REDIS_URL``) counts per process.
    """
    counts = cache.get_many(_login_counter_keys(username=username, ip=ip))
    return any(count >= LOGIN_FAILURES_ALLOWED for count in counts.values())


def login_failure_record(*, username: str, ip: str) -> None:
    """Count one failed log-in against the user name and against the address.

    Each counter is a fixed window of ``LOGIN_WINDOW_SECONDS`` from its first failure; the
    failure that reaches the limit starts a full lock-out of ``LOGIN_LOCKOUT_SECONDS``,
    however little of the window was left.
    """
    for key in _login_counter_keys(username=username, ip=ip):
        cache.add(key, 0, timeout=LOGIN_WINDOW_SECONDS)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=LOGIN_WINDOW_SECONDS)
            count = 1
        if count >= LOGIN_FAILURES_ALLOWED:
            cache.touch(key, LOGIN_LOCKOUT_SECONDS)


def login_failures_forget(*, username: str) -> None:
    """Forget the user name's failed log-ins after it logged in. The address's count stays:
    otherwise someone with an account of their own could log in between guesses at others'."""
    user_key, _ = _login_counter_keys(username=username, ip="")
    cache.delete(user_key)
