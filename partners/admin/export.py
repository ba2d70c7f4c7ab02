"""CSV export of every console list: the list as it is filtered and searched (a button on the
list), or the rows ticked (an action). Every app's admin uses it, so it lives in the bottom
layer; the compliance pages' exports use its cells too.

A file is streamed from an iterator over the queryset (a list of a million rows is never held
in memory), UTF-8 with a byte-order mark (so Excel in Japan reads it as UTF-8 rather than
Shift_JIS), and safe to open in a spreadsheet (a cell that would run as a formula gets a
leading apostrophe). Its columns are the admin's ``csv_fields``, never personal data: a
member's contact details are encrypted and read only on an audited reveal, on screen.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import label_for_field, lookup_field
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path, reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.html import strip_tags
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from partners.db import replica_alias

BOM = "\ufeff"
TOKYO = ZoneInfo("Asia/Tokyo")
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (tab and carriage return too, per OWASP's CSV injection advice).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]")
# Rows fetched per round trip while streaming.
CHUNK_SIZE = 2000

CsvField = str | Callable[[Any], Any]


def cell(value: Any) -> str:
    """One value as CSV text: times in Tokyo (ISO 8601 with offset), yes/no, lists joined with
    "; ", and a leading apostrophe on anything a spreadsheet would run as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return timezone.localtime(value, TOKYO).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, SafeString):  # an admin column made for the screen: its text only
        value = strip_tags(value)
    is_list = isinstance(value, list | tuple)
    text = "; ".join(str(item) for item in value) if is_list else str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


class Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def csv_download(
    rows: Iterable[Sequence[Any]], *, name: str, label: str = ""
) -> StreamingHttpResponse:
    """Stream ``rows`` (the first is the header) as a CSV download named ``sanpo-<name>-<label>-
    <today>.csv``. The rows are made while the response is sent, in the language of the
    request that asked for them (which has been switched off by then)."""
    writer = csv.writer(Echo())
    language = translation.get_language()

    def lines() -> Iterator[str]:
        with translation.override(language):
            yield BOM
            for row in rows:
                yield writer.writerow([cell(value) for value in row])

    # Names are slugs and filter values; keep the characters those use, so the name needs no
    # quoting rules and a crafted filter cannot break the header.
    parts = ["sanpo", name, _UNSAFE_IN_NAME.sub("", label)[:80]]
    parts.append(timezone.localdate(timezone=TOKYO).strftime("%Y%m%d"))
    filename = "-".join(part for part in parts if part)
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    response["Cache-Control"] = "no-store, private"
    return response


class CsvExportMixin(admin.ModelAdmin):
    """An "Export CSV" button on the list (the rows its filters and search select, in its
    order) and an "Export the selected rows as CSV" action.

    ``csv_fields`` names the columns like ``list_display``: model fields, attributes, admin
    methods or callables taking the row; headers come from their verbose names or
    ``short_description`` (so they are translated). A column must never be personal data.
    A list that has its own list template names it in ``csv_base_change_list_template``.
    """

    csv_fields: Sequence[CsvField] = ()
    csv_base_change_list_template = "admin/change_list.html"
    change_list_template = "admin/csv_export/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts
        export = path(
            "export-csv/",
            self.admin_site.admin_view(self.csv_export_view),
            name=f"{opts.app_label}_{opts.model_name}_export_csv",
        )
        return [export, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        context = {"csv_base_change_list_template": self.csv_base_change_list_template}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if self.actions is not None and self.csv_fields:
            action = self.get_action("export_selected_csv")
            if action is not None:
                actions["export_selected_csv"] = action
        return actions

    def csv_export_view(self, request: HttpRequest) -> HttpResponseBase:
        """The list as the same query string shows it: its filters, search and order."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            # As the list itself answers a filter it cannot apply: back to the list, unfiltered.
            name = f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"
            url = reverse(name, current_app=self.admin_site.name)
            return HttpResponseRedirect(f"{url}?{ERROR_FLAG}=1")
        return self.csv_response(changelist.queryset)

    @admin.action(description=_("Export the selected rows as CSV"))
    def export_selected_csv(
        self, request: HttpRequest, queryset: QuerySet[Any]
    ) -> StreamingHttpResponse:
        return self.csv_response(queryset)

    def csv_response(self, queryset: QuerySet[Any]) -> StreamingHttpResponse:
        # A report: read from the replica when there is one (partners.db), relations too.
        rows = self.csv_rows(queryset.using(replica_alias()))
        return csv_download(rows, name=self.opts.model_name or "export")

    def csv_headers(self) -> list[str | Promise]:
        # Without return_attr, label_for_field returns the label alone (the stubs say a pair).
        return [cast(str, label_for_field(name, self.model, self)) for name in self.csv_fields]

    def csv_rows(self, queryset: QuerySet[Any]) -> Iterator[Sequence[Any]]:
        yield [str(header) for header in self.csv_headers()]
        for obj in queryset.iterator(chunk_size=CHUNK_SIZE):
            yield [self.csv_value(obj, name) for name in self.csv_fields]

    def csv_value(self, obj: Model, name: CsvField) -> Any:
        try:
            _field, _attr, value = lookup_field(name, obj, self)
        except ObjectDoesNotExist:
            return None
        if isinstance(value, Model):
            return str(value)
        return value
