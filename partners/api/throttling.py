import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from partners.api.authentication import PartnerPrincipal

WINDOW_SECONDS = 60


class ApiKeyRateThrottle(BaseThrottle):
    """A fixed one-minute window per API key, counted with an atomic increment in the shared
    cache (Redis in production), so the limit holds across every worker and host."""

    def allow_request(self, request: Request, view: Any) -> bool:
        principal = request.user
        if not isinstance(principal, PartnerPrincipal):
            return True
        limit: int = settings.SANPO_API_RATE_LIMIT_PER_MINUTE
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"ratelimit:{principal.api_key.pk}:{window}"
        cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=WINDOW_SECONDS * 2)
            count = 1
        self.reset_in = int((window + 1) * WINDOW_SECONDS - now) + 1
        request.rate_limit = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(limit - count, 0)),
            "X-RateLimit-Reset": str(self.reset_in),
        }
        return count <= limit

    def wait(self) -> float | None:
        return float(getattr(self, "reset_in", WINDOW_SECONDS))
