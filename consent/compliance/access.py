"""Who may use the compliance pages: compliance reviewers, and nobody else.

Reviewers are not ``is_staff`` (they never use the admin), so neither the admin's decorators
nor ``staff_member_required`` fit; this one checks the Sanpo role itself.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse

from partners.models import StaffRole

View = Callable[..., HttpResponseBase]


def is_compliance_reviewer(user: Any) -> bool:
    """True for an authenticated, active user whose Sanpo role is compliance reviewer."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    # A user without a role has no ``sanpo_role``; RelatedObjectDoesNotExist is an
    # AttributeError, so getattr's default covers it.
    staff_role = getattr(user, "sanpo_role", None)
    return staff_role is not None and staff_role.role == StaffRole.Role.COMPLIANCE_REVIEWER


def compliance_reviewer_required(view: View) -> View:
    """Anonymous visitors go to the compliance log-in page; any other role gets a 403 page
    (with a log-out button, so someone signed in with the wrong account can switch)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("compliance:login"))
        if not is_compliance_reviewer(request.user):
            return render(request, "compliance/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped
