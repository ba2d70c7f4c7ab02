from dataclasses import dataclass

from django.utils.translation import gettext as _
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from partners.errors import ApplicationError, ErrorCode
from partners.models import ApiKey, Partner
from partners.services import api_key_authenticate


@dataclass(frozen=True)
class PartnerPrincipal:
    """``request.user`` for a partner's API call: the partner, acting through one key."""

    api_key: ApiKey
    is_authenticated = True
    is_anonymous = False

    @property
    def partner(self) -> Partner:
        return self.api_key.partner

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.api_key.scopes)


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer sanpo_…``. No header: anonymous (refused by the permission
    class with 401); a header that does not name a live key: 401 with the reason."""

    def authenticate(self, request: Request) -> tuple[PartnerPrincipal, ApiKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _space, credentials = header.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise ApplicationError(
                ErrorCode.INVALID_API_KEY, _("Send the key as `Authorization: Bearer <key>`.")
            )
        api_key = api_key_authenticate(credentials.strip())
        return PartnerPrincipal(api_key=api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="sanpo"'
