from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request

from partners.errors import ApplicationError, ErrorCode, validation_failed
from partners.normalize import whole_number


class CappedCursorPagination(CursorPagination):
    """Cursor pages (stable under inserts, cheap at any depth) of ``limit`` items.

    A ``limit`` above SANPO_API_MAX_PAGE_SIZE is refused with 400 rather than silently cut, so
    a client never mistakes a short page for the end of the list.
    """

    page_size = 50
    page_size_query_param = "limit"
    ordering = "-created_at"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        maximum: int = settings.SANPO_API_MAX_PAGE_SIZE
        size = whole_number(raw)
        if size is None or not 1 <= size <= maximum:
            raise validation_failed(
                "limit", _("Give a whole number from 1 to %(maximum)d.") % {"maximum": maximum}
            )
        return size

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        self._model: type[models.Model] = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> Any:
        try:
            cursor = super().decode_cursor(request)
            if cursor is not None and cursor.position is not None:
                self._check_position(cursor.position)
        except Exception:
            raise ApplicationError(
                ErrorCode.INVALID_REQUEST, _("The cursor is not valid.")
            ) from None
        return cursor

    def _check_position(self, position: Any) -> None:
        # The position is filtered on as given: a value the ordering field cannot hold would
        # fail in the query (a 500), so it is refused here as an invalid cursor.
        field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
        assert isinstance(field, models.Field)
        value = field.to_python(position)
        if isinstance(value, datetime):
            if timezone.is_naive(value):
                raise DjangoValidationError("A cursor position carries its time zone.")
            value.astimezone(UTC)  # OverflowError at the ends of the datetime range


class PageOutput(serializers.Serializer):
    """One cursor page. Build one for an item serializer with ``page_of``; the OpenAPI schema
    gives every list answered with such a page its ``limit`` and ``cursor`` parameters."""

    next = serializers.URLField(allow_null=True, help_text="The next page, or null at the end.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page, or null.")


@cache
def page_of(output: type[serializers.BaseSerializer]) -> type[PageOutput]:
    """The page serializer of ``output`` items, ``<Item>PageOutput``: what
    ``CappedCursorPagination.get_paginated_response`` answers. One class per item serializer,
    so the schema has one component for it."""
    name = output.__name__.removesuffix("Output") + "PageOutput"
    page: type[PageOutput] = type(name, (PageOutput,), {"results": output(many=True)})
    page.__module__ = output.__module__
    return page
