"""Data-subject requests in the console: what was asked, through whom, and how many days are
left before each open one is due (overdue ones stand out). Read-only: an erasure is carried
out when it is received and an access request is answered through the API
(``data_request_export``), so there is nothing to do to one here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from consent.admin.base import ConsentRecordAdmin
from consent.compliance.selectors.registers import RequestFilter, data_subject_requests
from consent.models import DataSubjectRequest
from partners.db import PRIMARY


def days_left(due_at: datetime, today: date) -> int:
    """Whole days from ``today`` to the day ``due_at`` falls on, both in the alliance's time
    zone: 0 on the day it is due, negative once it is overdue."""
    due = timezone.localtime(due_at, ZoneInfo(settings.TIME_ZONE)).date()
    return (due - today).days


class DeadlineFilter(admin.SimpleListFilter):
    """Open, open and overdue, or completed: the compliance pages' register, one definition."""

    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [(value, label) for value, label in RequestFilter.CHOICES if value]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == RequestFilter.OVERDUE:
            return queryset.filter(status=RequestFilter.OPEN, due_at__lt=timezone.now())
        if value in (RequestFilter.OPEN, RequestFilter.COMPLETED):
            return queryset.filter(status=value)
        return queryset


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(ConsentRecordAdmin):
    list_display = [
        "received_at",
        "kind",
        "status",
        "member_number",
        "received_via",
        "due_at",
        "days_left_shown",
        "completed_at",
    ]
    list_filter = [DeadlineFilter, "kind", "status", "received_via", "received_at"]
    list_select_related = ["member", "received_via"]
    search_fields = ["member__member_number", "requested_by"]
    search_help_text = _("A member number, who made the request, or a request ID.")
    date_hierarchy = "received_at"
    fields = readonly_fields = (
        "id",
        "kind",
        "status",
        "member_number",
        "received_via",
        "received_at",
        "due_at",
        "days_left_shown",
        "completed_at",
        "requested_by",
        "verified_with",
    )
    csv_fields = [
        "id",
        "received_at",
        "kind",
        "status",
        "member__member_number",
        "received_via__slug",
        "due_at",
        "completed_at",
        "requested_by",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DataSubjectRequest]:
        # The compliance register's selector: the member without its ciphertexts. On the
        # primary: the console changes these rows and must show its own changes (the CSV
        # export, a report, still reads the replica: partners.admin.export).
        return data_subject_requests(now=timezone.now()).using(PRIMARY)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        found, duplicates = super().get_search_results(request, queryset, search_term)
        ids = []
        for term in search_term.split():
            try:
                ids.append(DataSubjectRequest._meta.pk.to_python(term))
            except Exception:  # noqa: S112 - not an ID: the term is matched as text
                continue
        if ids:
            found |= queryset.filter(pk__in=ids)
        return found, duplicates

    @admin.display(description=_("member number"), ordering="member__member_number")
    def member_number(self, obj: DataSubjectRequest) -> str:
        return obj.member.member_number

    @admin.display(description=_("days left"), ordering="due_at")
    def days_left_shown(self, obj: DataSubjectRequest) -> str:
        if obj.status != DataSubjectRequest.Status.VERIFIED:
            return "—"
        left = days_left(obj.due_at, timezone.localdate())
        # Overdue as the compliance register says it (``is_overdue``: open past ``due_at``),
        # counted in whole days past the day it was due.
        if not getattr(obj, "is_overdue", obj.due_at < timezone.now()):
            if left == 0:
                return gettext("due today")
            return ngettext("%(days)s day", "%(days)s days", left) % {"days": left}
        late = -left
        text = (
            ngettext("overdue by %(days)s day", "overdue by %(days)s days", late) % {"days": late}
            if late > 0
            else gettext("overdue since earlier today")
        )
        return format_html(
            '<strong class="overdue" style="color: var(--error-fg)">{}</strong>', text
        )
