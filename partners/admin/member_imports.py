"""Member imports: uploading a member base file, following its job, and its error report."""

import csv
import io
from collections.abc import Iterator
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.template.defaultfilters import filesizeformat
from django.urls import URLPattern, reverse
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from partners import services
from partners.actors import Actor
from partners.admin.base import SeparateAddForm, ServiceErrorsAsMessages, adopt, object_page_url
from partners.admin.export import BOM, CsvExportMixin, Echo, cell
from partners.admin.member_import_errors import (
    ERROR_REPORT_HEADER,
    REFUSED,
    REFUSED_LABELS,
    import_errors_context,
)
from partners.admin.members import may_view_personal_data, personal_data_object
from partners.errors import ApplicationError
from partners.member_columns import COLUMNS, REQUIRED_COLUMNS
from partners.models import MemberImport, Partner
from partners.services.member_import import ERROR_REPORT_COLUMNS
from partners.services.member_import_jobs import member_import_resume


def _error_report(job: MemberImport) -> Iterator[str]:
    """The stored report with its header row (identifiers) in the reader's language, each cell
    made safe to open in a spreadsheet: the messages quote the rejected values as uploaded."""
    writer = csv.writer(Echo())
    yield BOM
    yield writer.writerow([str(ERROR_REPORT_HEADER[name]) for name in ERROR_REPORT_COLUMNS])
    with job.errors.open("rb") as stored:
        rows = csv.reader(io.TextIOWrapper(stored, encoding="utf-8-sig", newline=""))
        next(rows, None)  # the stored header
        for row in rows:
            yield writer.writerow([cell(value) for value in row])


class MemberImportUploadForm(forms.ModelForm):
    file = forms.FileField(label=capfirst(_("file")))
    format = forms.ChoiceField(
        label=capfirst(_("format")),
        choices=[("", _("From the file name (.csv, .jsonl)")), *MemberImport.Format.choices],
        required=False,
    )
    encoding = forms.ChoiceField(
        label=capfirst(_("encoding")),
        choices=[
            ("auto", _("Detect (UTF-8 or Shift_JIS)")),
            ("utf-8", "UTF-8"),
            ("shift_jis", "Shift_JIS"),
        ],
        initial="auto",
    )

    class Meta:
        model = MemberImport
        # format and encoding are not model fields here: the service resolves and checks them.
        fields = ["partner", "mode", "skip_invalid_rows"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "file" in self.fields:
            columns = format_html_join(", ", "<code>{}</code>", ((name,) for name in COLUMNS))
            required = format_html_join(", ", "<code>{}</code>", ((n,) for n in REQUIRED_COLUMNS))
            self.fields["file"].help_text = format_html(
                gettext(
                    "CSV or JSON Lines, one member per row, with the columns {columns} "
                    "({required} are required)."
                ),
                columns=columns,
                required=required,
            )
        if "partner" in self.fields:  # the upload form; the job's page shows it read-only
            partners = Partner.objects.filter(holds_customer_data=True)
            self.fields["partner"].queryset = partners  # type: ignore[attr-defined]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.SANPO_IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                gettext("The file is larger than %(size)s.") % {"size": filesizeformat(limit)}
            )
        return upload


@admin.register(MemberImport)
class MemberImportAdmin(CsvExportMixin, SeparateAddForm, ServiceErrorsAsMessages):
    # The upload form's own Meta names the model fields: file, format and encoding are the
    # service's arguments, not values to copy onto the job.
    form = add_form = MemberImportUploadForm
    list_display = [
        "original_name",
        "partner",
        "status",
        "progress",
        "rows_staged",
        "rows_created",
        "rows_updated",
        "rows_unchanged",
        "rows_invalid",
        "created_at",
    ]
    list_filter = ["status", "partner", "format"]
    csv_fields = [
        "original_name",
        "partner",
        "status",
        "mode",
        "format",
        "rows_staged",
        "rows_created",
        "rows_updated",
        "rows_unchanged",
        "rows_invalid",
        "persons_linked",
        "created_at",
        "finished_at",
    ]
    search_fields = ["original_name"]
    list_select_related = ["partner"]
    date_hierarchy = "created_at"
    actions = ["resume"]
    change_form_template = "admin/partners/memberimport/change_form.html"

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            fields = ["partner", "file", "format", "encoding", "mode", "skip_invalid_rows"]
            return [(None, {"fields": fields})]
        return [
            (
                None,
                {
                    "fields": [
                        "original_name",
                        "partner",
                        "created_by",
                        "size",
                        "format",
                        "encoding_display",
                        "mode",
                        "skip_invalid_rows",
                    ]
                },
            ),
            (
                _("Progress"),
                {
                    "fields": [
                        "status",
                        "progress",
                        "lines_done",
                        "rows_staged",
                        "rows_invalid",
                        "rows_created",
                        "rows_updated",
                        "rows_unchanged",
                        "persons_linked",
                        # Only what there is: no "failure: -" on an import that went well.
                        *(["error_report"] if obj.errors else []),
                        *(["failure"] if obj.failure else []),
                    ]
                },
            ),
            (
                _("Times"),
                {"fields": ["created_at", "started_at", "heartbeat_at", "finished_at"]},
            ),
        ]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A job is changed only by its run: its page is read-only. The permission still
        # counts for the list, where it allows "Resume".
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the audit log refers to imports

    @admin.display(description=_("progress"))
    def progress(self, obj: MemberImport) -> str:
        # A refused import imported nothing: it says so, rather than showing a full bar.
        if obj.status in REFUSED:
            label = REFUSED_LABELS[MemberImport.Status(obj.status)]
            return format_html('<span class="import-refused">{}</span>', label)
        percent = obj.progress_percent
        return format_html(
            '<progress max="100" value="{}">{} %</progress> {} %', percent, percent, percent
        )

    @admin.display(description=_("size"))
    def size(self, obj: MemberImport) -> str:
        return filesizeformat(obj.file_size)

    @admin.display(description=_("encoding"))
    def encoding_display(self, obj: MemberImport) -> str:
        if obj.resolved_encoding and obj.encoding == "auto":
            return gettext("auto (read as %(encoding)s)") % {"encoding": obj.resolved_encoding}
        return obj.encoding

    @admin.display(description=_("error report"))
    def error_report(self, obj: MemberImport) -> str:
        if not obj.errors:
            return "-"
        url = reverse("admin:partners_memberimport_errors", args=[obj.pk])
        text = ngettext(
            "Download the errors (CSV, %(count)s line)",
            "Download the errors (CSV, %(count)s lines)",
            obj.rows_invalid,
        ) % {"count": intcomma(obj.rows_invalid)}
        return format_html('<a href="{}">{}</a>', url, text)

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        context.update(show_save_and_add_another=False, show_save_and_continue=False)
        job = context.get("original")
        if job is not None and job.errors:
            context.update(import_errors_context(job, may_view_personal_data(request.user)))
        return super().render_change_form(request, context, *args, **kwargs)

    def save_model(self, request: HttpRequest, obj: MemberImport, form: Any, change: bool) -> None:
        if change:
            return
        data = form.cleaned_data
        upload = data["file"]
        job = services.member_import_create(
            partner=data["partner"],
            upload=upload,
            original_name=upload.name,
            actor=Actor.from_request(request),
            format=data["format"] or None,
            encoding=data["encoding"],
            mode=data["mode"],
            skip_invalid_rows=data["skip_invalid_rows"],
            language=translation.get_language(),  # the uploader's, for the row errors
        )
        adopt(obj, job)

    def response_add(self, request: HttpRequest, obj: MemberImport, *args: Any) -> HttpResponse:
        messages.success(
            request, gettext("The import of %(file)s has started.") % {"file": obj.original_name}
        )
        return HttpResponseRedirect(reverse("admin:partners_memberimport_change", args=[obj.pk]))

    def get_urls(self) -> list[URLPattern]:
        return [object_page_url(self, "errors", self.errors_view), *super().get_urls()]

    def errors_view(self, request: HttpRequest, object_id: str) -> StreamingHttpResponse:
        """The job's error report, streamed through the console (MEDIA is never served): UTF-8
        with a BOM, so spreadsheet software reads it as UTF-8; the header in the reader's
        language, the messages in the uploader's."""
        # The messages quote the rejected values (an e-mail that is not one, a phone number):
        # personal data, for the same people who may reveal it.
        job = personal_data_object(self, request, object_id, missing=gettext("No such import."))
        if not job.errors:
            raise Http404(gettext("This import has no error report."))
        stem = job.original_name.rsplit(".", 1)[0] or "import"
        response = StreamingHttpResponse(_error_report(job), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(True, f"{stem}-errors.csv")
        return response

    @admin.action(description=_("Resume the selected unfinished imports"), permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[MemberImport]) -> None:
        for job in queryset:
            try:
                # Without a broker this runs the import at commit; with one, a worker picks it up.
                member_import_resume(job=job)
            except ApplicationError as exc:  # finished, or another run still holds the job
                messages.warning(request, f"{job.original_name}: {exc.message}")
            else:
                messages.success(
                    request, gettext("%(file)s: resumed.") % {"file": job.original_name}
                )
