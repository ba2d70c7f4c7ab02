"""The audit log in the console: read-only, short columns that fit a laptop's screen, a one-line
summary of each event instead of its JSON, and filters by action, outcome, partner, actor and
date."""

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from partners.admin.base import ReadOnlyAdmin
from partners.admin.export import CsvExportMixin
from partners.audit_actions import AUDIT_ACTIONS
from partners.models import AuditEvent, StaffRole

SUMMARY_LENGTH = 90
# The detail's names a person reads, in their language; others (a name a newer feature writes)
# are shown as written. The values are the event's, as recorded.
DETAIL_LABELS = {
    "user": pgettext_lazy("audit detail", "user"),
    "role": pgettext_lazy("audit detail", "role"),
    "from": pgettext_lazy("audit detail", "from"),
    "to": pgettext_lazy("audit detail", "to"),
    "reason": pgettext_lazy("audit detail", "reason"),
    "fields": pgettext_lazy("audit detail", "fields"),
    "scopes": pgettext_lazy("audit detail", "scopes"),
    "url": pgettext_lazy("audit detail", "URL"),
    "events": pgettext_lazy("audit detail", "events"),
    "file": pgettext_lazy("audit detail", "file"),
    "bytes": pgettext_lazy("audit detail", "bytes"),
    "purpose": pgettext_lazy("audit detail", "purpose"),
    "expires_at": pgettext_lazy("audit detail", "expires at"),
    "changed": pgettext_lazy("audit detail", "changed"),
    "status": pgettext_lazy("audit detail", "status"),
}


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}={_text(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_text(item) for item in value)
    return "" if value is None else str(value)


def detail_pairs(event: AuditEvent) -> list[tuple[str, str]]:
    """The event's detail as ``(name, text)`` pairs: lists joined, nested mappings inlined."""
    detail = event.detail if isinstance(event.detail, dict) else {"detail": event.detail}
    return [(str(DETAIL_LABELS.get(name, name)), _text(value)) for name, value in detail.items()]


def audit_summary(event: AuditEvent) -> str:
    """One line a person reads: the object, then the detail as ``name: value``."""
    parts = [event.object_repr] if event.object_repr else []
    parts += [f"{name}: {text}" for name, text in detail_pairs(event)]
    return "; ".join(parts)


class AuditActionFilter(admin.SimpleListFilter):
    """Every action some app registered (partners.audit_actions), by its label."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        labels = [(code, str(label)) for code, label in AUDIT_ACTIONS.items()]
        return sorted(labels, key=lambda item: item[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(action=self.value()) if self.value() else queryset


class ActorFilter(admin.SimpleListFilter):
    """Who acted: each person who holds a role (a short list, not a scan of the log), any API
    key, or the system (a task or command, neither a person nor a key)."""

    title = _("actor")
    parameter_name = "actor"
    API_KEYS = "keys"
    SYSTEM = "system"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        roles = StaffRole.objects.select_related("user").order_by("user__username")
        people = [(str(role.user_id), role.user.get_username()) for role in roles]
        return [
            *people,
            (self.API_KEYS, _("API keys")),
            (self.SYSTEM, pgettext_lazy("actor", "system")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if value == self.API_KEYS:
            return queryset.filter(actor_api_key__isnull=False)
        if value == self.SYSTEM:
            return queryset.filter(Q(actor_user__isnull=True) & Q(actor_api_key__isnull=True))
        if not (value.isascii() and value.isdigit()):
            return queryset.none()
        return queryset.filter(actor_user_id=int(value))


@admin.register(AuditEvent)
class AuditEventAdmin(CsvExportMixin, ReadOnlyAdmin):
    list_display = ["when", "action_name", "outcome", "actor_label", "partner", "summary"]
    list_display_links = ["when"]
    list_filter = [AuditActionFilter, "outcome", "partner", ActorFilter, "occurred_at"]
    search_fields = ["actor_label", "object_repr", "object_id"]
    date_hierarchy = "occurred_at"
    list_select_related = ["partner"]
    fields = readonly_fields = (
        "occurred_at",
        "action_name",
        "outcome",
        "actor_label",
        "actor_user",
        "actor_api_key",
        "ip_address",
        "partner",
        "object_type",
        "object_id",
        "object_repr",
        "detail_table",
    )
    csv_fields = [
        "occurred_at",
        "action",
        "outcome",
        "actor_label",
        "partner",
        "object_type",
        "object_id",
        "object_repr",
        "summary_text",
    ]

    @admin.display(description=_("occurred at"), ordering="occurred_at")
    def when(self, event: AuditEvent) -> str:
        return date_format(timezone.localtime(event.occurred_at), "SHORT_DATETIME_FORMAT")

    @admin.display(description=_("action"), ordering="action")
    def action_name(self, event: AuditEvent) -> str:
        return event.action_label

    @admin.display(description=_("summary"))
    def summary(self, event: AuditEvent) -> str:
        text = audit_summary(event)
        short = Truncator(text).chars(SUMMARY_LENGTH)
        return format_html('<span title="{}">{}</span>', text, short) if short != text else text

    @admin.display(description=_("summary"))
    def summary_text(self, event: AuditEvent) -> str:
        return audit_summary(event)

    @admin.display(description=_("detail"))
    def detail_table(self, event: AuditEvent) -> str:
        pairs = detail_pairs(event)
        if not pairs:
            return "-"
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", pairs)
        return format_html('<table class="audit-detail">{}</table>', rows)
