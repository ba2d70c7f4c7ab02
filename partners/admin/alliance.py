"""The alliance: partners, staff roles, API keys, webhooks, deliveries and the audit log."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from partners import services
from partners.actors import Actor
from partners.admin.base import (
    ReadOnlyAdmin,
    SeparateAddForm,
    ServiceErrorsAsMessages,
    adopt,
    run_service,
)
from partners.admin.export import CsvExportMixin
from partners.errors import ApplicationError
from partners.models import (
    ApiKey,
    ApiScope,
    Partner,
    PartnerContact,
    StaffRole,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from partners.netguard import resolve_target
from partners.services.partners import PARTNER_EDITABLE_FIELDS
from partners.services.webhooks import RECEIVER_ANSWERED, validate_event_types


class PartnerContactInline(admin.TabularInline):
    model = PartnerContact
    extra = 0


@admin.register(Partner)
class PartnerAdmin(CsvExportMixin, ServiceErrorsAsMessages):
    csv_fields = [
        "slug",
        "name_latin",
        "name_ja",
        "kind",
        "holds_customer_data",
        "status",
        "status_changed_at",
        "created_at",
    ]
    list_display = ["name_latin", "name_ja", "slug", "kind", "holds_customer_data", "status"]
    list_filter = ["kind", "status", "holds_customer_data"]
    search_fields = ["name_latin", "name_ja", "slug"]
    readonly_fields = ["status", "status_changed_at", "created_at"]
    inlines = [PartnerContactInline]
    actions = ["suspend", "resume", "offboard"]

    def get_readonly_fields(self, request: HttpRequest, obj: Partner | None = None) -> Any:
        if obj is not None:  # slug and kind name the guardian group and the host: fixed
            return [*self.readonly_fields, "slug", "kind"]
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Partner, form: Any, change: bool) -> None:
        if change:
            adopt(
                obj,
                services.partner_update(
                    partner=obj,
                    actor=Actor.from_request(request),
                    **{name: form.cleaned_data[name] for name in PARTNER_EDITABLE_FIELDS},
                ),
            )
            return
        created = services.partner_create(
            slug=obj.slug,
            name_ja=obj.name_ja,
            name_latin=obj.name_latin,
            kind=obj.kind,
            holds_customer_data=obj.holds_customer_data,
            actor=Actor.from_request(request),
        )
        adopt(obj, created)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # partners are offboarded, never deleted: their history must stay

    @admin.action(description=_("Suspend API access of the selected partners"))
    def suspend(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        done = gettext("%(partner)s is suspended.")
        _each_partner(request, queryset, services.partner_suspend, done)

    @admin.action(description=_("Resume the selected partners"))
    def resume(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        done = gettext("%(partner)s is active again.")
        _each_partner(request, queryset, services.partner_resume, done)

    @admin.action(description=_("Offboard the selected partners (final)"))
    def offboard(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        done = gettext("%(partner)s is offboarded.")
        _each_partner(request, queryset, services.partner_offboard, done)


def _each_partner(
    request: HttpRequest,
    partners: QuerySet[Partner],
    service: Callable[..., object],
    done: str,
) -> None:
    """Run a partner service on each selected partner: one message per partner, ``done``
    given the partner's name as ``%(partner)s``."""
    actor = Actor.from_request(request)
    for partner in partners:
        run_service(
            request,
            lambda p=partner: service(partner=p, actor=actor),
            done % {"partner": partner.name_latin},
        )


@admin.register(StaffRole)
class StaffRoleAdmin(CsvExportMixin, ServiceErrorsAsMessages):
    csv_fields = ["user", "role", "partner"]
    list_display = ["user", "role", "partner"]
    list_filter = ["role", "partner"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]

    def save_model(self, request: HttpRequest, obj: StaffRole, form: Any, change: bool) -> None:
        role = services.staff_role_set(
            user=obj.user,
            role=StaffRole.Role(obj.role),
            partner=obj.partner,
            actor=Actor.from_request(request),
        )
        adopt(obj, role)

    def delete_model(self, request: HttpRequest, obj: StaffRole) -> None:
        services.staff_role_remove(staff_role=obj, actor=Actor.from_request(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[StaffRole]) -> None:
        for staff_role in queryset:
            self.delete_model(request, staff_role)


class ApiKeyIssueForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=capfirst(_("scopes")),
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiScope.READ],
    )

    class Meta:
        model = ApiKey
        fields = ["partner", "name", "scopes", "expires_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(CsvExportMixin, SeparateAddForm, ServiceErrorsAsMessages):
    csv_fields = [
        "name",
        "partner",
        "masked",
        "scopes",
        "state",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    add_form = ApiKeyIssueForm
    list_display = [
        "name",
        "partner",
        "masked",
        "scope_names",
        "state",
        "expires_at",
        "last_used_at",
    ]
    list_filter = ["partner", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "lookup", "partner__name_latin"]
    actions = ["revoke", "rotate"]
    readonly_fields = [
        "partner",
        "name",
        "masked",
        "scope_names",
        "created_at",
        "created_by_user",
        "created_by_key",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "replaced_by",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (
            self.readonly_fields if obj is not None else ["partner", "name", "scopes", "expires_at"]
        )

    @admin.display(description=_("key prefix"))
    def masked(self, obj: ApiKey) -> str:
        return obj.masked

    @admin.display(description=_("scopes"))
    def scope_names(self, obj: ApiKey) -> str:
        names = dict(ApiScope.choices)
        return ", ".join(str(names.get(scope, scope)) for scope in obj.scopes)

    @admin.display(description=_("state"))
    def state(self, obj: ApiKey) -> str:
        if obj.revoked_at:
            return gettext("revoked")
        if obj.is_expired():
            return gettext("expired")
        if obj.replaced_by_id:
            until = timezone.localtime(obj.expires_at)
            return gettext("rotated, live until %(time)s") % {
                "time": formats.date_format(until, "SHORT_DATETIME_FORMAT")
            }
        return gettext("live")

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            return  # keys are immutable; revoke or rotate instead
        issued = services.api_key_issue(
            partner=obj.partner,
            name=obj.name,
            scopes=list(form.cleaned_data["scopes"]),
            expires_at=obj.expires_at,
            actor=Actor.from_request(request),
        )
        adopt(obj, issued.api_key)
        self._show_once(request, issued)

    def _show_once(self, request: HttpRequest, issued: services.IssuedKey) -> None:
        messages.warning(
            request,
            format_html(
                gettext(
                    "The key for {partner} is <code>{key}</code>. Copy it now: it is stored only "
                    "as a digest and cannot be shown again."
                ),
                partner=issued.api_key.partner.name_latin,
                key=issued.plaintext,
            ),
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the audit log refers to keys

    @admin.action(description=_("Revoke the selected keys now"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            services.api_key_revoke(api_key=api_key, actor=Actor.from_request(request))
        count = queryset.count()
        messages.success(
            request,
            ngettext("Revoked %(count)d key.", "Revoked %(count)d keys.", count) % {"count": count},
        )

    @admin.action(description=_("Rotate the selected keys (old keys live on for the overlap)"))
    def rotate(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            try:
                issued = services.api_key_rotate(api_key=api_key, actor=Actor.from_request(request))
            except ApplicationError as exc:
                messages.error(request, f"{api_key}: {exc.message}")
            else:
                self._show_once(request, issued)


class WebhookEndpointForm(forms.ModelForm):
    """Refuses, as form errors, the URLs and event lists the webhook services would refuse."""

    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ["partner", "url", "description", "events", "is_active"]

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        if "url" in self.changed_data:
            try:
                resolve_target(url)
            except ApplicationError as exc:
                raise forms.ValidationError(exc.message) from None
        return url

    def clean_events(self) -> Any:
        events = self.cleaned_data.get("events")
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise forms.ValidationError(
                gettext('Give a list of event types, e.g. ["api_key.issued"].')
            )
        try:
            return validate_event_types(events)
        except ApplicationError as exc:
            raise forms.ValidationError(exc.fields.get("events", [exc.message])) from None


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(CsvExportMixin, ServiceErrorsAsMessages):
    csv_fields = ["url", "partner", "description", "events", "is_active", "created_at"]
    form = WebhookEndpointForm
    list_display = ["url", "partner", "is_active", "created_at"]
    list_filter = ["partner", "is_active"]
    search_fields = ["url", "description", "partner__name_latin"]
    fields = ["partner", "url", "description", "events", "is_active"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["partner"] if obj is not None else []

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        actor = Actor.from_request(request)
        if change:
            # Only what changed: an unchanged URL is not checked again, so an endpoint whose
            # URL is refused now (say, its name no longer resolves) can still be disabled.
            changed = set(form.changed_data)
            services.webhook_endpoint_update(
                endpoint=obj,
                actor=actor,
                url=obj.url if "url" in changed else None,
                events=list(obj.events) if "events" in changed else None,
                description=obj.description if "description" in changed else None,
                is_active=obj.is_active if "is_active" in changed else None,
            )
            return
        created = services.webhook_endpoint_create(
            partner=obj.partner,
            url=obj.url,
            events=list(obj.events),
            description=obj.description,
            actor=actor,
        )
        adopt(obj, created.endpoint)
        messages.warning(
            request,
            format_html(
                gettext("The signing secret is <code>{secret}</code>. Copy it now."),
                secret=created.secret,
            ),
        )

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        services.webhook_endpoint_delete(endpoint=obj, actor=Actor.from_request(request))


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = (
        "number",
        "started_at",
        "duration_ms",
        "status_code",
        "error_text",
        "response_excerpt",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("error"))
    def error_text(self, attempt: WebhookAttempt) -> str:
        # The delivery log is written in English (services.webhooks); its messages are
        # catalogue entries, shown in the reader's language. Others (a connection error, a
        # URL refused at send time) are shown as written.
        if not attempt.error:
            return ""
        answered = {"status": attempt.status_code}
        if attempt.status_code is not None and attempt.error == RECEIVER_ANSWERED % answered:
            return gettext(RECEIVER_ANSWERED) % answered
        return gettext(attempt.error)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(CsvExportMixin, ReadOnlyAdmin):
    csv_fields = [
        "event_id",
        "event_type",
        "endpoint",
        "state",
        "attempt_count",
        "next_attempt_at",
        "created_at",
    ]
    list_display = [
        "event_type",
        "endpoint",
        "state",
        "attempt_count",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["state", "event_type", "endpoint__partner"]
    search_fields = ["event_id", "endpoint__url"]
    date_hierarchy = "created_at"
    list_select_related = ["endpoint"]
    inlines = [WebhookAttemptInline]
