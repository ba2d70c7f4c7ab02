"""Member bases: accounts (personal data only on an explicit, audited reveal), imports and
persons."""

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from partners import pii, selectors, services
from partners.access import has_staff_role
from partners.actors import Actor
from partners.admin.base import ReadOnlyAdmin, ServiceErrorsAsMessages, adopt
from partners.errors import ApplicationError
from partners.member_columns import COLUMNS
from partners.models import (
    MemberAccount,
    MemberImport,
    Partner,
    Person,
    StaffRole,
)
from partners.normalize import PREFECTURE_NAMES, PREFECTURES, InvalidValueError
from partners.normalize import normalize_member_number as _normalize_member_number
from partners.services.member_import import member_import_resume
from partners.services.member_records import MemberInvalidError, clean_member

# Who may see a member's personal data in the console: a role (see partners.access).
PERSONAL_DATA_ROLES = (StaffRole.Role.ALLIANCE_MANAGER, StaffRole.Role.COMPLIANCE_REVIEWER)


def may_view_personal_data(user: Any) -> bool:
    return has_staff_role(user, *PERSONAL_DATA_ROLES)


def _run_each(
    request: HttpRequest, objects: Iterable[Any], action: Callable[[Any], Any], done: str
) -> None:
    """Run a service per object: one error message per refusal, one summary for the rest."""
    count = 0
    for obj in objects:
        try:
            action(obj)
        except ApplicationError as exc:
            messages.error(request, f"{obj}: {exc.message}")
        else:
            count += 1
    if count:
        messages.success(request, done.format(count=count))


# The only member columns the console reads to list, show or edit accounts. Ciphertexts, the
# wrapped key and the blind indexes are loaded only to reveal (and by the services, which fetch
# their own rows), so a page that needs none of them cannot leak or decrypt any.
MEMBER_CLEAR_FIELDS = (*selectors.MEMBER_CLEAR_FIELDS, "person")
_PERSONAL_LABELS = {
    "name": "Name",
    "name_kana": "Name (kana)",
    "email": "E-mail",
    "phone": "Phone",
    "postal_code": "Postal code",
    "address": "Address",
    "birth_date": "Birth date",
}
_CLEARABLE = tuple(name for name in pii.PERSONAL_FIELDS if name != "name")
# The member_create/member_update input names the form provides, in COLUMNS order.
_SERVICE_FIELDS = tuple(name for name in COLUMNS if name != "member_number")
_SETTABLE_STATUSES = [
    (status.value, status.label)
    for status in (MemberAccount.Status.ACTIVE, MemberAccount.Status.INACTIVE)
]
_PREFECTURE_CHOICES = [(code, f"{code} {name}") for code, name in PREFECTURES]


def _personal_field(label: str, *, textarea: bool = False, help_text: str = "") -> forms.CharField:
    # autocomplete off: browsers should not remember members' personal data.
    attrs = {"autocomplete": "off"}
    widget = forms.Textarea(attrs={**attrs, "rows": 3}) if textarea else forms.TextInput(attrs)
    return forms.CharField(
        label=label, required=False, strip=False, widget=widget, help_text=help_text
    )


class MemberAccountForm(forms.ModelForm):
    """Personal data as plain fields, handed to member_create / member_update as strings: the
    services validate, normalise and seal them. Editing an account decrypts nothing, so its
    personal fields start empty: a blank field keeps the stored value, "clear" removes one.

    The form checks the values with the services' own ``clean_member`` first, so a bad value
    is a form error on its field; the services check again when saving.
    """

    status = forms.ChoiceField(choices=_SETTABLE_STATUSES, initial=MemberAccount.Status.ACTIVE)
    prefecture = forms.ChoiceField(
        choices=[("", "From the address"), *_PREFECTURE_CHOICES], required=False
    )
    name = _personal_field("Name")
    name_kana = _personal_field("Name (kana)")
    email = _personal_field("E-mail")
    phone = _personal_field("Phone")
    postal_code = _personal_field("Postal code")
    address = _personal_field("Address", textarea=True)
    birth_date = _personal_field("Birth date", help_text="YYYY-MM-DD")
    clear = forms.MultipleChoiceField(
        choices=[(name, _PERSONAL_LABELS[name]) for name in _CLEARABLE],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Remove",
        help_text="Remove these stored values.",
    )

    class Meta:
        model = MemberAccount
        fields = [
            "partner",
            "member_number",
            "kind",
            "status",
            "prefecture",
            "joined_on",
            "last_active_on",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "partner" in self.fields:
            partners = Partner.objects.filter(holds_customer_data=True)
            self.fields["partner"].queryset = partners  # type: ignore[attr-defined]
        if not self.instance._state.adding:
            self.fields["name"].help_text = "Leave blank to keep the stored name."

    @property
    def adding(self) -> bool:
        return bool(self.instance._state.adding)

    def clean_member_number(self) -> str:
        try:
            return _normalize_member_number(self.cleaned_data["member_number"])
        except InvalidValueError as exc:
            raise forms.ValidationError(exc.message) from None

    def service_values(self) -> dict[str, str]:
        """The input for the service: every field when adding; when changing, only the fields
        typed or changed, and the removed ones as empty strings."""
        data = self.cleaned_data
        names = [name for name in _SERVICE_FIELDS if name in self.fields]
        if self.adding:
            names.insert(0, "member_number")
        else:
            names = [name for name in names if name in self.changed_data]
        values = {name: _as_input(data.get(name)) for name in names}
        for name in data.get("clear") or ():
            values[name] = ""
        return values

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for name in cleaned.get("clear") or ():
            if name in self.changed_data:
                self.add_error(name, "Give a new value or remove it, not both.")
        values = self.service_values()
        if not self.adding:
            # Only the given fields are checked: complete the record with stand-ins.
            kind = cleaned.get("kind") or self.instance.kind
            stand_ins = {"member_number": self.instance.member_number, "kind": kind, "name": "-"}
            values = stand_ins | {k: v for k, v in values.items() if k != "name" or v}
        try:
            clean_member(values, today=timezone.localdate())
        except MemberInvalidError as invalid:
            for error in invalid.errors:
                field = error.field if error.field in self.fields else None
                if field not in self.errors:  # one message per field: the form's own first
                    self.add_error(field, error.message)
        return cleaned


def _as_input(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


class PrefectureFilter(admin.SimpleListFilter):
    # The 47 codes, not the database's distinct values: no scan of the whole member table.
    title = "prefecture"
    parameter_name = "prefecture"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return _PREFECTURE_CHOICES

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(prefecture=self.value()) if self.value() else queryset


@admin.register(MemberAccount)
class MemberAccountAdmin(ServiceErrorsAsMessages):
    form = MemberAccountForm
    list_display = [
        "member_number",
        "partner",
        "kind",
        "status",
        "prefecture_display",
        "joined_on",
        "last_active_on",
        "updated_at",
    ]
    list_filter = ["partner", "kind", "status", PrefectureFilter]
    # Member numbers only: personal data is encrypted and cannot be searched, by design.
    search_fields = ["=member_number"]
    search_help_text = "Search by member number (exact)."
    list_select_related = ["partner"]
    show_full_result_count = False  # a base holds millions of rows: count them once, not twice
    readonly_fields = [
        "partner",
        "member_number",
        "birth_year",
        "person",
        "created_at",
        "updated_at",
    ]
    actions = ["deactivate", "erase"]
    change_form_template = "admin/partners/memberaccount/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[MemberAccount]:
        return super().get_queryset(request).only(*MEMBER_CLEAR_FIELDS).select_related("partner")

    @admin.display(description="prefecture", ordering="prefecture")
    def prefecture_display(self, obj: MemberAccount) -> str:
        if not obj.prefecture:
            return "-"
        return f"{obj.prefecture} {PREFECTURE_NAMES.get(obj.prefecture, '')}".strip()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status == MemberAccount.Status.ERASED:
            return False  # nothing left to edit
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # members are erased (crypto-shredded), never deleted: records point at them

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else []

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        segment = (
            "Segment (stored in clear)",
            {"fields": ["prefecture", "joined_on", "last_active_on"]},
        )
        if obj is None:
            return [
                (None, {"fields": ["partner", "member_number", "kind", "status"]}),
                ("Personal data (stored encrypted)", {"fields": list(pii.PERSONAL_FIELDS)}),
                segment,
            ]
        account = (
            None,
            {
                "fields": [
                    "partner",
                    "member_number",
                    "kind",
                    "status",
                    "person",
                    "created_at",
                    "updated_at",
                ]
            },
        )
        segment[1]["fields"].insert(1, "birth_year")
        if not self.has_change_permission(request, obj):
            return [account, segment]
        personal = (
            "Personal data (stored encrypted)",
            {
                "fields": [*pii.PERSONAL_FIELDS, "clear"],
                "description": "Not shown here: use “Show personal data” (every view is "
                "recorded in the audit log). Type a value only to replace the stored one.",
            },
        )
        return [account, personal, segment]

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        context["may_view_personal_data"] = may_view_personal_data(request.user)
        return super().render_change_form(request, context, *args, **kwargs)

    def save_model(self, request: HttpRequest, obj: MemberAccount, form: Any, change: bool) -> None:
        actor = Actor.from_request(request)
        values = form.service_values()
        if change:
            if values:
                adopt(obj, services.member_update(member=obj, values=values, actor=actor))
            return
        partner = form.cleaned_data["partner"]
        adopt(obj, services.member_create(partner=partner, values=values, actor=actor))

    def get_urls(self) -> list[URLPattern]:
        reveal = path(
            "<path:object_id>/reveal/",
            self.admin_site.admin_view(self.reveal_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_reveal",
        )
        return [reveal, *super().get_urls()]

    def reveal_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET asks for confirmation; POST decrypts, records the view and shows the data."""
        member = self.get_object(request, unquote(object_id))
        if member is None:
            raise Http404("No such member account.")
        if not self.has_view_or_change_permission(request, member):
            raise PermissionDenied
        if not may_view_personal_data(request.user):
            raise PermissionDenied
        change_url = reverse("admin:partners_memberaccount_change", args=[member.pk])
        if member.status == MemberAccount.Status.ERASED:
            messages.info(request, "This member has been erased: there is no personal data.")
            return HttpResponseRedirect(change_url)
        personal = None
        if request.method == "POST":
            sealed = MemberAccount.objects.select_related("partner").get(pk=member.pk)
            actor = Actor.from_request(request)
            try:
                values = services.member_reveal(
                    member=sealed, actor=actor, purpose="admin detail view"
                )
            except pii.UndecryptableError as exc:
                # Not erased (that is handled above): altered, copied or under a removed key.
                services.audit_undecryptable(
                    error=exc,
                    actor=actor,
                    partner=sealed.partner,
                    detail={"request": "admin detail view"},
                )
                messages.error(request, str(exc))
                return HttpResponseRedirect(change_url)
            personal = [(_PERSONAL_LABELS[name], values.get(name)) for name in pii.PERSONAL_FIELDS]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": member,
            "title": f"Personal data of member {member.member_number}",
            "personal": personal,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/partners/memberaccount/reveal.html", context)

    @admin.action(description="Deactivate the selected members", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[MemberAccount]) -> None:
        actor = Actor.from_request(request)
        _run_each(
            request,
            queryset,
            lambda member: services.member_deactivate(member=member, actor=actor),
            "Deactivated {count} member account(s).",
        )

    @admin.action(
        description="Erase the personal data of the selected members (final)",
        permissions=["change"],
    )
    def erase(self, request: HttpRequest, queryset: QuerySet[MemberAccount]) -> Any:
        if request.POST.get("post") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Erase personal data?",
                "members": queryset,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(
                request, "admin/partners/memberaccount/erase_selected_confirmation.html", context
            )
        actor = Actor.from_request(request)
        _run_each(
            request,
            queryset,
            lambda member: services.member_erase(member=member, actor=actor),
            "Erased the personal data of {count} member account(s).",
        )
        return None


class MemberImportUploadForm(forms.ModelForm):
    file = forms.FileField(
        help_text="CSV or JSON Lines, one member per row, with the columns "
        + ", ".join(COLUMNS)
        + " (member_number, kind and name are required).",
    )
    format = forms.ChoiceField(
        choices=[("", "From the file name (.csv, .jsonl)"), *MemberImport.Format.choices],
        required=False,
    )
    encoding = forms.ChoiceField(
        choices=[
            ("auto", "Detect (UTF-8 or Shift_JIS)"),
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
        if "partner" in self.fields:  # the upload form; the job's page shows it read-only
            partners = Partner.objects.filter(holds_customer_data=True)
            self.fields["partner"].queryset = partners  # type: ignore[attr-defined]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.SANPO_IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(f"The file is larger than {filesizeformat(limit)}.")
        return upload


@admin.register(MemberImport)
class MemberImportAdmin(ServiceErrorsAsMessages):
    form = MemberImportUploadForm
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
    search_fields = ["original_name"]
    list_select_related = ["partner"]
    date_hierarchy = "created_at"
    actions = ["resume"]
    change_form_template = "admin/partners/memberimport/change_form.html"

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            # The upload form's own Meta names the model fields: file, format and encoding
            # are the service's arguments, not values to copy onto the job.
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

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
                "Progress",
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
                        "error_report",
                        "failure",
                    ]
                },
            ),
            ("Times", {"fields": ["created_at", "started_at", "heartbeat_at", "finished_at"]}),
        ]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A job is changed only by its run: its page is read-only. The permission still
        # counts for the list, where it allows "Resume".
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the audit log refers to imports

    @admin.display(description="progress")
    def progress(self, obj: MemberImport) -> str:
        percent = obj.progress_percent
        return format_html(
            '<progress max="100" value="{}">{} %</progress> {} %', percent, percent, percent
        )

    @admin.display(description="size")
    def size(self, obj: MemberImport) -> str:
        return filesizeformat(obj.file_size)

    @admin.display(description="encoding")
    def encoding_display(self, obj: MemberImport) -> str:
        if obj.resolved_encoding and obj.encoding == "auto":
            return f"auto (read as {obj.resolved_encoding})"
        return obj.encoding

    @admin.display(description="error report")
    def error_report(self, obj: MemberImport) -> str:
        if not obj.errors:
            return "-"
        url = reverse("admin:partners_memberimport_errors", args=[obj.pk])
        return format_html(
            '<a href="{}">Download the errors (CSV, {} line(s))</a>', url, obj.rows_invalid
        )

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        context.update(show_save_and_add_another=False, show_save_and_continue=False)
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
        )
        adopt(obj, job)

    def response_add(self, request: HttpRequest, obj: MemberImport, *args: Any) -> HttpResponse:
        messages.success(request, f"The import of {obj.original_name} has started.")
        return HttpResponseRedirect(reverse("admin:partners_memberimport_change", args=[obj.pk]))

    def get_urls(self) -> list[URLPattern]:
        errors = path(
            "<path:object_id>/errors/",
            self.admin_site.admin_view(self.errors_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_errors",
        )
        return [errors, *super().get_urls()]

    def errors_view(self, request: HttpRequest, object_id: str) -> FileResponse:
        """The job's error report, streamed through the console: MEDIA is never served."""
        job = self.get_object(request, unquote(object_id))
        if job is None:
            raise Http404("No such import.")
        if not self.has_view_or_change_permission(request, job):
            raise PermissionDenied
        # The messages quote the rejected values (an e-mail that is not one, a phone number):
        # personal data, for the same people who may reveal it.
        if not may_view_personal_data(request.user):
            raise PermissionDenied
        if not job.errors:
            raise Http404("This import has no error report.")
        stem = job.original_name.rsplit(".", 1)[0] or "import"
        return FileResponse(
            job.errors.open("rb"),
            as_attachment=True,
            filename=f"{stem}-errors.csv",
            content_type="text/csv; charset=utf-8",
        )

    @admin.action(description="Resume the selected unfinished imports", permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[MemberImport]) -> None:
        for job in queryset:
            try:
                # Without a broker this runs the import at commit; with one, a worker picks it up.
                member_import_resume(job=job)
            except ApplicationError as exc:  # finished, or another run still holds the job
                messages.warning(request, f"{job.original_name}: {exc.message}")
            else:
                messages.success(request, f"{job.original_name}: resumed.")


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    """Who the matching believes is one human: no personal data, only how many accounts."""

    list_display = ["id", "created_at", "account_count"]
    fields = ["id", "created_at", "account_count"]
    readonly_fields = ["id", "created_at", "account_count"]
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Person]:
        # A correlated count, computed for the rows of one page rather than grouped over all.
        accounts = (
            MemberAccount.objects.filter(person=OuterRef("pk"))
            .order_by()
            .values("person")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(account_count=Coalesce(Subquery(accounts, output_field=IntegerField()), 0))
        )

    @admin.display(description="accounts")
    def account_count(self, obj: Any) -> int:
        return int(obj.account_count)
