"""The project's URLs and, for the click benchmark's server only (``settings``), the baseline:
a static 302 to the same landing page, through the same middleware and decorators as the
click view, without the click's reads and write."""

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config.urls import handler404, handler500  # noqa: F401 - the project's error pages
from config.urls import urlpatterns as project_urlpatterns

STATIC_302 = "bench/static-302"
LANDING = "https://midori-fitness.example/trial?sanpo_ref=static"


@never_cache
@require_safe
def static_302(request: HttpRequest) -> HttpResponse:
    response = HttpResponseRedirect(LANDING)
    response["Referrer-Policy"] = "no-referrer"
    return response


urlpatterns = [path(STATIC_302, static_302), *project_urlpatterns]
