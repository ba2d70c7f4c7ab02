"""Privacy notices in the console: every version as members saw it, read-only, and publishing a
new version through ``notice_publish`` (which audits it), after a preview of what it changes
for members compared with the version in force."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Case, Max, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from consent.admin.base import ConsentRecordAdmin
from consent.admin.notice_changes import notice_changes
from consent.models import PrivacyNotice, Purpose
from consent.names import DATA_ITEM_NAMES, data_item_list, list_join, partner_name
from consent.selectors import notice_in_force
from consent.services import notice_publish
from consent.services.common import sha256_canonical
from partners.access import has_staff_role
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import Partner, StaffRole

DATETIME_INPUT = "%Y-%m-%dT%H:%M"


class PurposeChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} ({obj.code})"


class PartnerChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{partner_name(obj)} ({obj.slug})"


class PublishForm(forms.Form):
    """The arguments of ``notice_publish``."""

    version = forms.IntegerField(label=_("version"), min_value=1)
    language = forms.ChoiceField(label=_("language"), choices=PrivacyNotice.Language.choices)
    effective_at = forms.DateTimeField(
        label=_("in effect from"),
        input_formats=[DATETIME_INPUT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
        help_text=_("In the alliance's time zone (Japan)."),
    )
    purposes = PurposeChoice(
        label=_("purposes"),
        queryset=Purpose.objects.filter(active=True).order_by("code"),
        widget=forms.CheckboxSelectMultiple,
    )
    recipients = PartnerChoice(
        label=_("recipients"),
        queryset=Partner.objects.order_by("slug"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    data_items = forms.MultipleChoiceField(
        label=_("data items"),
        choices=lambda: [(code, str(name)) for code, name in DATA_ITEM_NAMES.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    text = forms.CharField(label=_("text"), widget=forms.Textarea(attrs={"rows": 12}))


def _initial() -> dict[str, Any]:
    """The next version, starting from the one in force: its conditions and Japanese text."""
    current = notice_in_force()
    latest = PrivacyNotice.objects.aggregate(latest=Max("version"))["latest"] or 0
    next_hour = timezone.localtime().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    initial: dict[str, Any] = {
        "version": latest + 1,
        "language": PrivacyNotice.Language.JA,
        "effective_at": next_hour,
    }
    if current is not None:
        same = PrivacyNotice.objects.filter(version=current.version, language="ja").first()
        initial.update(
            purposes=current.conditions.get("purposes", []),
            recipients=Partner.objects.filter(slug__in=current.conditions.get("recipients", [])),
            data_items=current.conditions.get("data_items", []),
            text=(same or current).text,
        )
    return initial


def _digest(values: dict[str, Any]) -> str:
    """What was previewed, so that only what was previewed is published."""
    shown = {
        "version": values["version"],
        "language": values["language"],
        "effective_at": values["effective_at"].isoformat(),
        "purposes": sorted(purpose.code for purpose in values["purposes"]),
        "recipients": sorted(partner.slug for partner in values["recipients"]),
        "data_items": sorted(values["data_items"]),
        "text": values["text"],
    }
    return sha256_canonical(shown)


@admin.register(PrivacyNotice)
class PrivacyNoticeAdmin(ConsentRecordAdmin):
    list_display = [
        "version",
        "language",
        "effective_at",
        "purposes_shown",
        "recipients_count",
        "in_force",
        "created_at",
    ]
    list_filter = ["language", "effective_at"]
    search_fields = ["text", "conditions_sha256"]
    date_hierarchy = "effective_at"
    fields = readonly_fields = (
        "version",
        "language",
        "effective_at",
        "purposes_shown",
        "recipients_shown",
        "data_items_shown",
        "text",
        "content_sha256",
        "conditions_sha256",
        "created_at",
    )
    csv_fields = [
        "version",
        "language",
        "effective_at",
        "conditions",
        "content_sha256",
        "conditions_sha256",
        "created_at",
    ]
    csv_base_change_list_template = "admin/consent/privacynotice/change_list.html"

    def may_publish(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(getattr(user, "is_staff", False)) and has_staff_role(
            user, StaffRole.Role.ALLIANCE_MANAGER
        )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        in_force = notice_in_force()
        context = {
            **(extra_context or {}),
            "may_publish": self.may_publish(request),
            "in_force_version": in_force.version if in_force else None,
        }
        return super().changelist_view(request, context)

    @admin.display(description=_("purposes"))
    def purposes_shown(self, obj: PrivacyNotice) -> str:
        return ", ".join(obj.conditions.get("purposes", []))

    @admin.display(description=_("recipients"))
    def recipients_count(self, obj: PrivacyNotice) -> int:
        return len(obj.conditions.get("recipients", []))

    @admin.display(description=_("recipients"))
    def recipients_shown(self, obj: PrivacyNotice) -> str:
        return list_join(obj.conditions.get("recipients", []))

    @admin.display(description=_("data items"))
    def data_items_shown(self, obj: PrivacyNotice) -> str:
        return data_item_list(obj.conditions.get("data_items", []))

    @admin.display(description=_("in force"), boolean=True)
    def in_force(self, obj: PrivacyNotice) -> bool:
        return bool(getattr(obj, "is_in_force", False))

    def get_queryset(self, request: HttpRequest) -> Any:
        in_force = notice_in_force()
        version = in_force.version if in_force is not None else None
        return (
            super()
            .get_queryset(request)
            .annotate(
                is_in_force=Case(
                    When(version=version, then=Value(True)),
                    default=Value(False),
                    output_field=BooleanField(),
                )
            )
        )

    def get_urls(self) -> list[URLPattern]:
        publish = path(
            "publish/",
            self.admin_site.admin_view(self.publish_view),
            name="consent_privacynotice_publish",
        )
        return [publish, *super().get_urls()]

    def publish_view(self, request: HttpRequest) -> HttpResponse:
        """Preview a new version's changes, then publish it through ``notice_publish``."""
        if not self.may_publish(request):
            raise PermissionDenied
        form = PublishForm(request.POST or None, initial=_initial())
        changes = None
        if request.method == "POST" and form.is_valid():
            values = form.cleaned_data
            previewed = request.POST.get("previewed") == _digest(values)
            if "_publish" in request.POST and not previewed:
                messages.warning(
                    request, gettext("The form changed after its preview: check it and publish.")
                )
            if "_publish" in request.POST and previewed:
                published = self._publish(request, form)
                if published is not None:
                    return HttpResponseRedirect(
                        reverse("admin:consent_privacynotice_change", args=[published.pk])
                    )
            changes = notice_changes(
                language=values["language"],
                text=values["text"],
                purposes=[purpose.code for purpose in values["purposes"]],
                recipients=values["recipients"],
                data_items=values["data_items"],
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Publish a new privacy notice version"),
            "form": form,
            "changes": changes,
            "previewed": _digest(form.cleaned_data) if changes is not None else "",
        }
        return TemplateResponse(request, "admin/consent/privacynotice/publish.html", context)

    def _publish(self, request: HttpRequest, form: PublishForm) -> PrivacyNotice | None:
        values = form.cleaned_data
        try:
            notice = notice_publish(
                version=values["version"],
                language=values["language"],
                text=values["text"],
                purposes=[purpose.code for purpose in values["purposes"]],
                recipients=values["recipients"],
                data_items=values["data_items"],
                effective_at=values["effective_at"],
                actor=Actor.from_request(request),
            )
        except ApplicationError as refused:
            form.add_error(None, refused.message)
            for name, errors in refused.fields.items():
                form.add_error(name if name in form.fields else None, list(map(str, errors)))
            return None
        messages.success(
            request,
            gettext("Version %(version)s (%(language)s) of the privacy notice is published.")
            % {"version": notice.version, "language": notice.get_language_display()},
        )
        return notice
