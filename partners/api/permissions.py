from typing import Any

from django.utils.translation import gettext as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from partners.api.authentication import PartnerPrincipal
from partners.errors import ApplicationError, ErrorCode
from partners.models import ApiScope

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def required_scope(view: Any, method: str) -> str:
    """The scope ``view`` declares for ``method``: ``required_scopes = {"POST": "admin"}``.
    Undeclared methods need read when safe and write otherwise."""
    declared: dict[str, str] = getattr(view, "required_scopes", {})
    if method in declared:
        return declared[method]
    if method == "HEAD" and "GET" in declared:
        return declared["GET"]
    return ApiScope.READ if method in _SAFE_METHODS else ApiScope.WRITE


class HasPartnerScope(BasePermission):
    """An authenticated partner whose key holds the scope the view declares for the method."""

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = request.user
        if not isinstance(principal, PartnerPrincipal):
            return False  # DRF answers 401, as the authenticator offers a challenge
        scope = required_scope(view, request.method or "GET")
        if scope not in principal.scopes:
            raise ApplicationError(
                ErrorCode.INSUFFICIENT_SCOPE,
                _("This needs an API key with the %(scope)s scope.") % {"scope": repr(scope)},
            )
        return True
