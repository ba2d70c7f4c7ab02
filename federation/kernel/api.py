"""What every federation domain's endpoints share, on top of the partner API's own plumbing
(``partners.api``: authentication, scopes, one error shape, atomic and idempotent writes, a
request body read by its serializer, pages, strict filters): the scopes by name, enums named
after their model's choices, and a filtered page of a list."""

from collections.abc import Callable
from typing import Any

import django_filters as df
from django.db import models
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from partners.api.base import PartnerEndpoint
from partners.api.fields import NamedChoiceField
from partners.api.filters import apply_filters, filter_parameters
from partners.api.pagination import CappedCursorPagination, page_of
from partners.models import ApiScope

READ = ApiScope.READ.value
WRITE = ApiScope.WRITE.value
ADMIN = ApiScope.ADMIN.value


def choice_field(choices: type[models.Choices], **kwargs: Any) -> NamedChoiceField:
    """A field taking one of a model's ``choices`` (``Agreement.Status``), which the schema
    describes as one enum named after them (``AgreementStatusEnum``) wherever it is shown."""
    schema_name = choices.__qualname__.replace(".", "") + "Enum"
    return NamedChoiceField(schema_name=schema_name, choices=choices.choices, **kwargs)


def list_schema(
    filters: type[df.FilterSet], output: type[serializers.Serializer], **kwargs: Any
) -> Callable[[Any], Any]:
    """``extend_schema`` for a list answered by ``FederationEndpoint.filtered_page``: its
    filters as query parameters and a page of ``output`` as its response."""
    return extend_schema(parameters=filter_parameters(filters), responses=page_of(output), **kwargs)


class FederationEndpoint(PartnerEndpoint):
    # The base of every federation endpoint: a PartnerEndpoint (required_scopes per method,
    # objects only through access functions) with the steps they all take. No docstring: the
    # schema describes an operation whose view has none by its base's (PartnerEndpoint's, as
    # it always has), and a docstring here would change that description.

    def filtered_page(
        self,
        filters: type[df.FilterSet],
        queryset: QuerySet[Any],
        output: type[serializers.BaseSerializer],
        *,
        pagination: type[CappedCursorPagination] = CappedCursorPagination,
        present: Callable[[Any], Any] | None = None,
    ) -> Response:
        """One page of ``queryset`` narrowed by the query's ``filters`` (``list_schema``
        documents them), each row shown by ``output`` through ``present`` when given. Raises
        validation_failed for a filter that is empty or not valid."""
        rows = apply_filters(filters, self.request.query_params, queryset, request=self.request)
        return self.paginated(rows, output, pagination=pagination, present=present)
