from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config.health import health
from partners.admin.partner_console import partner_site
from partners.api.errors import json_handler404, json_handler500
from partners.preferences import set_language

admin.site.site_header = _("Sanpo alliance console")
admin.site.site_title = "Sanpo"
admin.site.index_title = _("Alliance management")

urlpatterns = [
    # The admin index, with the alliance dashboard (federation/dashboard), ahead of the admin.
    path("admin/", include("federation.dashboard.urls")),
    path("admin/", admin.site.urls),
    # Partner admins and analysts: their own company's keys, webhooks and programmes, read-only.
    path("partner-console/", partner_site.urls),
    path("health/", health, name="health"),
    # The language switch: Django's set_language, saving a signed-in person's choice too.
    path("i18n/setlang/", set_language, name="set_language"),
    path("preferences/", include("consent.preference_page.urls")),
    path("compliance/", include("consent.compliance.urls")),
    # The API root: each app contributes its own endpoints, so no app includes a higher one's.
    path("api/v1/", include("partners.api.urls")),
    path("api/v1/", include("consent.urls")),
    path("api/v1/", include("federation.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_handler404(request, exception)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_handler500(request)
    return defaults.server_error(request)
