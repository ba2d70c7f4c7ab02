"""The admin index: for an alliance manager, the alliance dashboard above Django's list of
apps; for anyone else the admin lets in, Django's index as it is."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from federation.dashboard import figures, selectors
from federation.dashboard.selectors import Period
from federation.kernel.admin import is_alliance_manager

TEMPLATE = "admin/federation/dashboard/index.html"


def admin_index(request: HttpRequest) -> TemplateResponse:
    """The admin's own index, rendered with the dashboard's template and figures for alliance
    managers: the app list, the recent actions and the admin's context stay Django's.
    ``?period=30d`` looks back 30 days by day; anything else, 12 months by month."""
    if not is_alliance_manager(request.user):
        return admin.site.index(request)
    raw = request.GET.get("period", "")
    period = Period(raw) if raw in {p.value for p in Period} else Period.MONTHS
    now = timezone.now()
    data = selectors.dashboard(period=period, now=now)
    context = {
        "dashboard_panels": figures.panels(data),
        "dashboard_window": data.window,
        "dashboard_now": now,
        "dashboard_periods": [
            (Period.DAYS.value, _("Last 30 days"), period == Period.DAYS),
            (Period.MONTHS.value, _("Last 12 months"), period == Period.MONTHS),
        ],
    }
    response = admin.site.index(request, extra_context=context)
    response.template_name = TEMPLATE  # not rendered yet: the same context, our template
    return response
