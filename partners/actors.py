"""Who is doing something: a person in the admin, a partner's API key, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest

    from partners.models import ApiKey, Partner


@dataclass(frozen=True)
class Actor:
    user: User | None = None
    api_key: ApiKey | None = None
    ip_address: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls()

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        user = getattr(request, "user", None)
        return cls(
            user=user if user is not None and user.is_authenticated else None,
            ip_address=request.META.get("REMOTE_ADDR"),
        )

    @property
    def partner(self) -> Partner | None:
        """The partner an API key acts for; None for people and the system."""
        return self.api_key.partner if self.api_key is not None else None

    @property
    def label(self) -> str:
        if self.api_key is not None:
            return f"API key {self.api_key.masked} of {self.api_key.partner.slug}"
        if self.user is not None:
            return f"user {self.user.get_username()}"
        return "system"
