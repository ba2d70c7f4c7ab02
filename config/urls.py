import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import Resolver404, include, path, re_path, resolve
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config.health import health, live
from config.metrics import metrics_view
from config.middleware import unavailable_response
from federation.referrals.views import referral_click_view
from partners.admin.partner_console import partner_site
from partners.api.errors import json_handler404, json_handler500
from partners.preferences import set_language
from partners.unavailable import database_unavailable

admin.site.site_header = _("Sanpo alliance console")
admin.site.site_title = "Sanpo"
admin.site.index_title = _("Alliance management")


# The API docs load only Sanpo's own files: ReDoc's bundle puts a logo from its vendor's CDN in
# its menu (no setting turns it off) and would take web fonts too, which a locked-down office
# network blocks and which would tell a third party who reads the docs. The browser enforces it.
DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",  # Swagger UI's and ReDoc's start-up scripts
        "style-src 'self' 'unsafe-inline'",  # both style their components inline
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",  # ReDoc's search index
        "connect-src 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


def local_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        return response

    return wrapped


@csrf_exempt  # a POST to a missing endpoint is a 404 like any other, not a CSRF page
def api_not_found(request: HttpRequest, rest: str) -> HttpResponse:
    """Any other path under /api/: the API's JSON 404, with DEBUG on too (where Django would
    show its HTML technical page). A browser's /api/docs still reaches /api/docs/, as
    CommonMiddleware's APPEND_SLASH would have sent it, since this route now matches first."""
    if settings.APPEND_SLASH and request.method in {"GET", "HEAD"} and not rest.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.url_name != "api-not-found":
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return json_handler404(request)


urlpatterns = [
    path("", TemplateView.as_view(template_name="sanpo/home.html"), name="home"),
    # The admin index, with the alliance dashboard (federation/dashboard), ahead of the admin.
    path("admin/", include("federation.dashboard.urls")),
    path("admin/", admin.site.urls),
    # Partner admins and analysts: their own company's keys, webhooks and programmes, read-only.
    path("partner-console/", partner_site.urls),
    path("health/", health, name="health"),
    path("health/ready/", health, name="health-ready"),
    path("health/live/", live, name="health-live"),
    path("metrics", metrics_view, name="metrics"),
    # The language switch: Django's set_language, saving a signed-in person's choice too.
    path("i18n/setlang/", set_language, name="set_language"),
    path("preferences/", include("consent.preference_page.urls")),
    path("compliance/", include("consent.compliance.urls")),
    # A referral link's click: public, it records the visit and redirects to the offer's page.
    path("r/<str:token>", referral_click_view, name="referral-click"),
    # The API root: each app contributes its own endpoints, so no app includes a higher one's.
    path("api/v1/", include("partners.api.urls")),
    path("api/v1/", include("consent.urls")),
    path("api/v1/", include("federation.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/",
        local_only(SpectacularSwaggerView.as_view(url_name="schema")),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        local_only(
            SpectacularRedocView.as_view(url_name="schema", template_name="sanpo/redoc.html")
        ),
        name="api-redoc",
    ),
    # Last of the /api/ routes: what none of the above matched.
    re_path(r"^api/(?P<rest>.*)$", api_not_found, name="api-not-found"),
]


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_handler404(request, exception)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception: one of the database being out of reach
    # (raised outside a view, in a middleware) is a 503 like any other.
    if database_unavailable(sys.exc_info()[1] or Exception()):
        return unavailable_response(request)
    if request.path.startswith("/api/"):
        return json_handler500(request)
    return defaults.server_error(request)
