"""How the partner API describes itself in OpenAPI (drf-spectacular).

``PartnerAutoSchema`` derives from each view what the conventions of ``PartnerEndpoint`` add to
every operation, so an endpoint written later is described without extra work:

- ``limit`` and ``cursor`` on every list answered with a ``page_of(...)`` page.
"""

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from partners.api.pagination import PageOutput


class PartnerAutoSchema(AutoSchema):
    def _is_page(self) -> bool:
        response = self.get_response_serializers()
        if isinstance(response, dict):
            response = response.get(200, response.get("200"))
        if isinstance(response, serializers.BaseSerializer):
            response = type(response)
        return isinstance(response, type) and issubclass(response, PageOutput)

    def get_operation_id(self) -> str:
        # A page is one object to drf-spectacular; it is still a list (``…_list``).
        operation_id: str = super().get_operation_id()
        if self.method == "GET" and (self._is_page() or self._is_results_list()):
            operation_id = operation_id.removesuffix("_retrieve") + "_list"
        return operation_id

    def _is_results_list(self) -> bool:
        response = self.get_response_serializers()
        fields = (
            getattr(response, "fields", None)
            if isinstance(response, serializers.Serializer)
            else None
        )
        if isinstance(response, type) and issubclass(response, serializers.Serializer):
            fields = response().fields
        return self.method == "GET" and fields is not None and list(fields) == ["results"]

    # --- parameters ------------------------------------------------------------------------

    def _get_parameters(self) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super()._get_parameters()
        added: list[dict[str, Any]] = []
        if self.method == "GET" and self._is_page():
            added += [
                {
                    "in": "query",
                    "name": "limit",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": settings.SANPO_API_MAX_PAGE_SIZE,
                        "default": 50,
                    },
                    "description": "Page size; more than the maximum is a 400, not a short page.",
                },
                {
                    "in": "query",
                    "name": "cursor",
                    "schema": {"type": "string"},
                    "description": "Opaque: only from a `next` or `previous` link.",
                },
            ]
        names = {(p["in"], p["name"]) for p in added}
        return [p for p in parameters if (p["in"], p["name"]) not in names] + added


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "partners.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A partner API key: `Authorization: Bearer sanpo_…`.",
        }
