"""What every federation domain's console pages share: they are the alliance managers' alone
(a role, see ``partners.access``), their rows change only through the domain's services (never
through Django's own form, never deleted), and what the services need beyond a form gets a
page of its own in the console's frame."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from partners.access import has_staff_role
from partners.models import StaffRole


def is_alliance_manager(user: Any) -> bool:
    """Alliance managers run the federation in the console; nobody else sees it there (a role,
    see partners.access). Partner staff are not staff users at all: their company reads what
    it is party to through the API, by the guardian grants its group holds."""
    return bool(getattr(user, "is_staff", False)) and has_staff_role(
        user, StaffRole.Role.ALLIANCE_MANAGER
    )


def count_of(rows: QuerySet[Any], *, through: str) -> Coalesce:
    """An annotation counting the ``rows`` that point at each row of a list ``through`` a
    foreign key: a correlated subquery computed for the rows shown, rather than a count grouped
    over the whole table, that the list can still sort on."""
    counted = (
        rows.filter(**{through: OuterRef("pk")})
        .order_by()
        .values(through)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


class AllianceConsoleAdmin(admin.ModelAdmin):
    """A console page of a federation domain, for alliance managers alone. Its rows change
    only through the domain's services, on pages of its own (``custom_urls``, ``page``): it
    grants no add, change or delete through Django's forms. A page that adds through a service
    allows adding itself, with an ``add_view`` of its own."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_alliance_manager(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_alliance_manager(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def custom_urls(self, *pages: tuple[str, str, Callable[..., HttpResponse]]) -> list[URLPattern]:
        """URL patterns for pages of this console, each ``(route, name, view)``: behind the
        admin's login, and named ``<app>_<model>_<name>`` like the admin's own (``url_of``)."""
        return [
            path(route, self.admin_site.admin_view(view), name=f"{self._url_prefix}_{name}")
            for route, name, view in pages
        ]

    def url_of(self, name: str, *args: Any) -> str:
        """The URL of this model's admin page ``name`` (``change``, or a ``custom_urls`` one)."""
        return reverse(f"admin:{self._url_prefix}_{name}", args=args)

    @property
    def _url_prefix(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}"

    def managed_object(self, request: HttpRequest, object_id: str) -> Model:
        """The object a page of this console is about: PermissionDenied for anyone but an
        alliance manager, 404 when there is no such object."""
        if not is_alliance_manager(request.user):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(_("No such %(what)s.") % {"what": self.opts.verbose_name})
        return obj

    def page(self, request: HttpRequest, template: str, **context: Any) -> TemplateResponse:
        """A page of this console, in the admin's frame (its site and this model's options)."""
        frame = {**self.admin_site.each_context(request), "opts": self.opts}
        return TemplateResponse(request, template, {**frame, **context})


def related_filter(
    field: str, title: Any, *, key: str = "slug", label: str = "slug"
) -> type[admin.SimpleListFilter]:
    """A list filter on foreign key ``field`` (``?<field>=<key>``), offering the related rows
    the listed rows name, each by its ``label`` (companies by slug, say). Unlike Django's
    related-field filters it still filters when the rows name one only (Django's then drops
    the filter and lists every row)."""

    class RelatedFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
            rows = model_admin.get_queryset(request).order_by()
            pairs = rows.values_list(f"{field}__{key}", f"{field}__{label}").distinct()
            return sorted((str(value), name) for value, name in pairs)

        def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
            value = self.value()
            return queryset.filter(**{f"{field}__{key}": value}) if value else queryset

    RelatedFilter.title = title
    return RelatedFilter
