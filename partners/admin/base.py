"""Shared pieces of the console: services' refusals as messages, read-only admins."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import URLPattern, path

from partners.errors import ApplicationError


def adopt(obj: Any, created: Any) -> None:
    # The admin goes on using the instance it built from the form (for its message, log entry
    # and redirect); make it the row the service created.
    obj.__dict__.update({k: v for k, v in created.__dict__.items() if k != "_state"})
    obj._state.adding = False
    obj._state.db = created._state.db


def error_text(exc: ApplicationError) -> str:
    """A service's refusal as one line: its message, then each field's errors."""
    details = [f"{field}: {' '.join(map(str, errors))}" for field, errors in exc.fields.items()]
    return " ".join([exc.message, *details])


def run_service(request: HttpRequest, action: Any, done: str) -> None:
    try:
        action()
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)


class ServiceErrorsAsMessages(admin.ModelAdmin):
    """A service refusal raised while saving (a limit, a state conflict) becomes an error
    message on the same page instead of a server error; the admin's transaction has already
    rolled back, so nothing of the refused change is kept."""

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().changeform_view(request, *args, **kwargs)
        except ApplicationError as exc:
            messages.error(request, error_text(exc))
            return HttpResponseRedirect(request.get_full_path())


class SeparateAddForm(admin.ModelAdmin):
    """Adding an object uses ``add_form``, whose own Meta names its fields: they are the
    arguments of a service, not the fieldsets of the object's page."""

    add_form: type[forms.ModelForm]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs.update(form=self.add_form, fields=None)
        return super().get_form(request, obj, change=change, **kwargs)


def object_page_url(
    model_admin: admin.ModelAdmin, name: str, view: Callable[..., Any]
) -> URLPattern:
    """A page of one object at ``<object_id>/<name>/``, named after the admin's own pages
    (``<app>_<model>_<name>``)."""
    opts = model_admin.opts
    return path(
        f"<path:object_id>/{name}/",
        model_admin.admin_site.admin_view(view),
        name=f"{opts.app_label}_{opts.model_name}_{name}",
    )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
