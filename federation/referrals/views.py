"""The public click endpoint, ``/r/<token>``: no authentication, one redirect to the offer's
stored landing URL, or a safe local page. Nothing in the request can choose where it leads."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from federation.referrals.services import referral_click


@never_cache  # every click is counted: no shared cache may answer one for the server
@require_safe
def referral_click_view(request: HttpRequest, token: str) -> HttpResponse:
    """302 to the landing URL (with the token when the click was recorded); 404 and the safe
    page for a token that is unknown, malformed, or whose offer is not valid today."""
    outcome = referral_click(
        token=token,
        address=request.META.get("REMOTE_ADDR", ""),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:500],
    )
    if outcome.location is None:
        return render(request, "referrals/missing.html", status=404)
    response = HttpResponseRedirect(outcome.location)
    response["Referrer-Policy"] = "no-referrer"
    return response
