"""List filters: django-filter FilterSets, applied strictly.

Every app's list endpoints declare a ``FilterSet`` and call ``PartnerEndpoint.filtered_page``. A
filter given with an empty value (``?status=``) or a value it cannot take (``?pending=banana``)
is a 400 naming the parameter, never silently ignored, so a client never reads an unfiltered
list believing it filtered. ``filter_parameters`` documents the same filters in the schema.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import django_filters as df
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext, gettext_lazy
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers

from partners.api.pagination import page_of
from partners.errors import ApplicationError, ErrorCode

TRUE, FALSE = "true", "false"


class StrictBooleanField(forms.Field):
    """``true`` or ``false``, exactly as the schema documents a boolean query parameter; any
    other spelling is an error (Django's own boolean fields read ``banana`` as "no filter")."""

    default_error_messages = {"invalid": gettext_lazy("Give true or false.")}

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        if value == TRUE:
            return True
        if value == FALSE:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictBooleanFilter(df.Filter):
    field_class = StrictBooleanField


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, held in UTC: an offset the database cannot store (``+16:43``) or a
    time that leaves the calendar once moved to UTC is an error, not a 500 in the query."""

    default_error_messages = {
        "invalid": gettext_lazy("Give an ISO 8601 time, e.g. 2026-11-01T09:00:00+09:00.")
    }

    def to_python(self, value: Any) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcDateTimeFilter(df.IsoDateTimeFilter):
    field_class = UtcDateTimeField


def apply_filters(
    filterset_class: type[df.FilterSet],
    params: Any,
    queryset: QuerySet[Any],
    *,
    request: Any = None,
) -> QuerySet[Any]:
    """``queryset`` narrowed by ``filterset_class`` from the query ``params``.

    Raises ApplicationError ``validation_failed`` naming each parameter that is empty or not
    valid; parameters the set does not declare (``limit``, ``cursor``) are left to others."""
    empty = {
        name: [gettext("Give a value, or leave the parameter out.")]
        for name in filterset_class.base_filters
        if name in params and params.get(name) == ""
    }
    if empty:
        raise ApplicationError(ErrorCode.VALIDATION_FAILED, fields=empty)
    filterset = filterset_class(params, queryset=queryset, request=request)
    if not filterset.is_valid():
        fields = {name: [str(e) for e in errors] for name, errors in filterset.errors.items()}
        raise ApplicationError(ErrorCode.VALIDATION_FAILED, fields=fields)
    return filterset.qs


def _schema_type(item: df.Filter) -> tuple[Any, list[str] | None]:
    if isinstance(item, StrictBooleanFilter):
        return OpenApiTypes.BOOL, None
    if isinstance(item, df.ChoiceFilter):
        return OpenApiTypes.STR, [str(value) for value, _ in item.extra["choices"]]
    if isinstance(item, df.IsoDateTimeFilter):  # UtcDateTimeFilter too
        return OpenApiTypes.DATETIME, None
    if isinstance(item, df.UUIDFilter):
        return OpenApiTypes.UUID, None
    return OpenApiTypes.STR, None


def filter_parameters(filterset_class: type[df.FilterSet]) -> list[OpenApiParameter]:
    """The query parameters of ``filterset_class``, for ``extend_schema(parameters=…)``: each
    optional, never empty, with its type, its choices and its label as the description."""
    parameters = []
    for name, item in filterset_class.base_filters.items():
        kind, choices = _schema_type(item)
        parameters.append(
            OpenApiParameter(
                name,
                kind,
                OpenApiParameter.QUERY,
                required=False,
                enum=choices,
                description=str(item.label or ""),
                allow_blank=False,
            )
        )
    return parameters


def list_schema(
    filters: type[df.FilterSet], output: type[serializers.Serializer], **kwargs: Any
) -> Callable[[Any], Any]:
    """``extend_schema`` for a list answered by ``PartnerEndpoint.filtered_page``: its filters
    as query parameters and a page of ``output`` as its response."""
    return extend_schema(parameters=filter_parameters(filters), responses=page_of(output), **kwargs)
