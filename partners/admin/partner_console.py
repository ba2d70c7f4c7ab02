"""The partner console: where a partner's own staff (partner admins and analysts) sign in to
see their company's side of the alliance, and nothing else.

A second admin site (at ``/partner-console/``), so the alliance managers' console keeps its
rules untouched: a partner role never makes anyone a staff user there. Here every list is the
signed-in person's company's own, read through the selectors that read its guardian grants
(``partners.selectors``), and read-only: keys and webhooks change through the API, where every
change is scoped, idempotent and audited. Another company's object answers like a missing one.

Apps above partners add their pages (their enrollments, agreements to sign) by registering a
model admin on ``partner_site`` from their ``AppConfig.ready``, derived from
``PartnerConsoleAdmin``, which answers ``own_rows(partner)``.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from partners import selectors
from partners.access import staff_role_of
from partners.admin.alliance import ApiKeyAdmin, WebhookAttemptInline
from partners.models import ApiKey, Partner, StaffRole, WebhookDelivery, WebhookEndpoint


def partner_of(user: Any) -> Partner | None:
    """The company a partner admin or analyst works for; None for anyone else."""
    role = staff_role_of(user)
    if role is None or role.role not in StaffRole.PARTNER_ROLES:
        return None
    return role.partner


class PartnerAuthenticationForm(AdminAuthenticationForm):
    """Signs in partner staff only, and says why anyone else cannot sign in here."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": _(
            "Please enter the username and password of a partner admin or analyst. Alliance "
            "managers sign in to the alliance console, compliance reviewers to the "
            "compliance pages."
        ),
    }

    def confirm_login_allowed(self, user: Any) -> None:
        if not user.is_active or partner_of(user) is None:
            raise forms.ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class PartnerConsoleSite(admin.AdminSite):
    site_header = _("Sanpo partner console")
    site_title = "Sanpo"
    index_title = _("Your company in the alliance")
    login_form = PartnerAuthenticationForm
    enable_nav_sidebar = False

    def has_permission(self, request: HttpRequest) -> bool:
        return partner_of(request.user) is not None


partner_site = PartnerConsoleSite(name="partner_console")


class PartnerConsoleAdmin(admin.ModelAdmin):
    """A read-only page of the partner console listing the signed-in company's own rows."""

    def own_rows(self, partner: Partner) -> QuerySet[Any]:
        raise NotImplementedError

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        partner = partner_of(request.user)
        if partner is None:
            return self.model._default_manager.none()
        return self.own_rows(partner)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return partner_of(request.user) is not None

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The object is one of get_queryset's, or the page answers "no such object".
        return partner_of(request.user) is not None

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        # The history is the alliance console's log of who changed what there: not theirs.
        raise PermissionDenied


@admin.register(ApiKey, site=partner_site)
class PartnerApiKeyAdmin(PartnerConsoleAdmin):
    list_display = ["name", "masked", "scope_names", "state", "expires_at", "last_used_at"]
    fields = readonly_fields = (
        "name",
        "masked",
        "scope_names",
        "state",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    masked = ApiKeyAdmin.masked
    scope_names = ApiKeyAdmin.scope_names
    state = ApiKeyAdmin.state

    def own_rows(self, partner: Partner) -> QuerySet[Any]:
        return selectors.api_key_list(principal=partner)


@admin.register(WebhookEndpoint, site=partner_site)
class PartnerWebhookEndpointAdmin(PartnerConsoleAdmin):
    list_display = ["url", "is_active", "created_at"]
    fields = readonly_fields = ("url", "description", "events", "is_active", "created_at")

    def own_rows(self, partner: Partner) -> QuerySet[Any]:
        return selectors.webhook_endpoint_list(principal=partner)


class PartnerWebhookAttemptInline(WebhookAttemptInline):
    # The attempts of a delivery the page already showed (one of the company's own).
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return partner_of(request.user) is not None


@admin.register(WebhookDelivery, site=partner_site)
class PartnerWebhookDeliveryAdmin(PartnerConsoleAdmin):
    list_display = ["event_type", "endpoint", "state", "attempt_count", "created_at"]
    list_filter = ["state", "event_type"]
    fields = readonly_fields = (
        "event_id",
        "event_type",
        "endpoint",
        "state",
        "attempt_count",
        "next_attempt_at",
        "created_at",
        "completed_at",
    )
    inlines = [PartnerWebhookAttemptInline]
    date_hierarchy = "created_at"

    def own_rows(self, partner: Partner) -> QuerySet[Any]:
        # Deliveries are reached through their granted parent (selectors.webhook_delivery_list).
        endpoints = selectors.webhook_endpoint_list(principal=partner)
        return WebhookDelivery.objects.filter(endpoint__in=endpoints).select_related("endpoint")
