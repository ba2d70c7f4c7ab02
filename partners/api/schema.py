"""How the partner API describes itself in OpenAPI (drf-spectacular).

``PartnerAutoSchema`` derives from each view what the conventions of ``PartnerEndpoint`` add to
every operation, so an endpoint written later is described without extra work:

- the error responses it can give, with the codes each status can carry: authentication (401,
  and 403 for a suspended partner), scopes (403), path parameters (404), query parameters and
  bodies (400, 413, 415), the ``Idempotency-Key`` (400, 409, 422), throttling (429), the
  database out of reach for a moment (503, ``partners.unavailable``), plus the codes a handler
  declares with ``@raises(...)``;
- the ``Idempotency-Key`` header on every POST (required where ``idempotency_required``);
- ``limit`` and ``cursor`` on every list answered with a ``page_of(...)`` page;
- ``additionalProperties: false`` on every ``StrictInputSerializer``, and ``minLength: 1`` on
  input strings that may not be blank;
- the scope it needs, at the end of its description, and an example of each error it lists.

What a reader sees is declared for the reader, never taken from docstrings, which are written
for Sanpo's developers: an operation's ``summary`` and ``description`` come from its
``extend_schema``, a serializer's description from ``extend_schema_serializer(description=…)``.
The guides every operation shares are markdown files in ``partners/api/docs/``, the schema's
description (``SPECTACULAR_SETTINGS``); ``with_error_code_table`` completes them.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import translation
from django.utils.functional import Promise
from drf_spectacular.drainage import get_override
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

from partners.api.authentication import ApiKeyAuthentication
from partners.api.base import _IDEMPOTENCY_KEY, PartnerEndpoint, StrictInputSerializer
from partners.api.pagination import PageOutput
from partners.api.permissions import HasPartnerScope, required_scope
from partners.errors import ERROR_CODES, STATUS_BY_CODE, ErrorCode

H = TypeVar("H", bound=Callable[..., Any])

ERROR_COMPONENT = "Error"
# A string that is not blank once DRF strips it: at least one character outside Python's
# whitespace (str.isspace), which is wider than the \s of JSON Schema's regular expressions.
NON_BLANK = r"[^\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_RAISES = "_sanpo_raises"
ERROR_CODE_TABLE_MARK = "<!-- sanpo:error-codes -->"
# What a validation_failed example names: the error shape, not any one operation's fields.
_EXAMPLE_FIELDS = {"name": ["This field is required."]}

AUTHENTICATION_CODES = (
    ErrorCode.AUTHENTICATION_REQUIRED,
    ErrorCode.INVALID_API_KEY,
    ErrorCode.API_KEY_REVOKED,
    ErrorCode.API_KEY_EXPIRED,
    ErrorCode.PARTNER_SUSPENDED,
)
BODY_CODES = (
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.MALFORMED_JSON,
    ErrorCode.PAYLOAD_TOO_LARGE,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
)
IDEMPOTENCY_CODES = (
    ErrorCode.IDEMPOTENCY_KEY_INVALID,
    ErrorCode.IDEMPOTENCY_KEY_REUSED,
    ErrorCode.IDEMPOTENCY_REQUEST_IN_PROGRESS,
)


def raises(*codes: models.TextChoices) -> Callable[[H], H]:
    """Declare error codes a handler gives beyond the ones its view's conventions imply, e.g.
    ``@raises(FederationErrorCode.NO_AGREEMENT, ErrorCode.CONFLICT)``, with codes of any app
    (``partners.errors.register_error_codes``); the schema lists them by status."""

    def decorate(handler: H) -> H:
        setattr(handler, _RAISES, (*getattr(handler, _RAISES, ()), *codes))
        return handler

    return decorate


def _error_example(code: models.TextChoices) -> dict[str, Any]:
    """An example answer with ``code`` and its default message (in English: the schema is
    generated in English)."""
    error: dict[str, Any] = {"code": code.value, "message": str(code.label)}
    if code == ErrorCode.VALIDATION_FAILED:
        error["fields"] = _EXAMPLE_FIELDS
    return {"summary": code.value, "value": {"error": error}}


def with_error_code_table(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A postprocessing hook: the errors guide's table of every registered code, its status
    and default message, made from the registry so a new app's codes are listed too."""
    rows = sorted(ERROR_CODES.values(), key=lambda code: (STATUS_BY_CODE[code], code.value))
    table = "\n".join(
        ["| status | code | default message |", "|---|---|---|"]
        + [f"| {STATUS_BY_CODE[code]} | `{code.value}` | {code.label} |" for code in rows]
    )
    info = result.setdefault("info", {})
    info["description"] = str(info.get("description", "")).replace(ERROR_CODE_TABLE_MARK, table)
    return result


def _error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The one error shape of the API.",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {
                        "type": "string",
                        "enum": sorted(ERROR_CODES),
                        "description": "Machine-readable; the status says which apply.",
                    },
                    "message": {"type": "string", "description": "For people; may change."},
                    "fields": {
                        "type": "object",
                        "description": "Invalid fields (or `non_field_errors`), each with its "
                        "messages; only for `validation_failed`.",
                        "additionalProperties": True,
                    },
                },
                "required": ["code", "message"],
            }
        },
        "required": ["error"],
    }


class PartnerAutoSchema(AutoSchema):
    def get_description(self) -> str:  # type: ignore[override]  # drf-spectacular's signature
        # Never a docstring: an operation says what it does in its extend_schema(description=…).
        return ""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        view = self._partner_view()
        if operation is not None and view is not None:
            scope = required_scope(view, self.method)
            described = operation.get("description", "").rstrip()
            operation["description"] = f"{described}\n\n**Scope:** `{scope}`.".lstrip()
        return operation

    def _partner_view(self) -> PartnerEndpoint | None:
        return self.view if isinstance(self.view, PartnerEndpoint) else None

    def _handler(self) -> Any:
        return getattr(self.view, self.method.lower(), None)

    def _has_body(self) -> bool:
        return self.method in {"POST", "PUT", "PATCH"} and self.get_request_serializer() is not None

    def _stores_idempotency_keys(self) -> bool:
        view = self._partner_view()
        return (
            view is not None
            and self.method == "POST"
            # An endpoint that answers afresh every time (consent/check) overrides this.
            and type(view)._run_idempotently is PartnerEndpoint._run_idempotently
        )

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

    # --- errors ----------------------------------------------------------------------------

    def error_codes(self) -> list[ErrorCode]:
        """The error codes this operation can answer with, from the view and its handler."""
        view = self.view
        codes: list[ErrorCode] = [ErrorCode.NOT_ACCEPTABLE]
        if any(isinstance(a, ApiKeyAuthentication) for a in view.get_authenticators()):
            codes += AUTHENTICATION_CODES
        if any(isinstance(p, HasPartnerScope) for p in view.get_permissions()):
            codes.append(ErrorCode.INSUFFICIENT_SCOPE)
        if "{" in self.path:
            codes.append(ErrorCode.NOT_FOUND)
        if any(p.get("in") == "query" for p in self._get_parameters()):
            codes += [ErrorCode.VALIDATION_FAILED, ErrorCode.INVALID_REQUEST]
        if self._has_body():
            codes += BODY_CODES
        elif self.method in {"POST", "PUT", "PATCH"}:
            codes.append(ErrorCode.PAYLOAD_TOO_LARGE)
        if self._stores_idempotency_keys():
            codes += IDEMPOTENCY_CODES
            if getattr(view, "idempotency_required", False):
                codes.append(ErrorCode.IDEMPOTENCY_KEY_REQUIRED)
        if view.get_throttles():
            codes.append(ErrorCode.RATE_LIMITED)
        codes += getattr(self._handler(), _RAISES, ())
        codes.append(ErrorCode.SERVICE_UNAVAILABLE)  # the database out of reach, for a moment
        return list(dict.fromkeys(codes))

    def _error_ref(self) -> dict[str, str]:
        component = ResolvedComponent(
            name=ERROR_COMPONENT,
            type=ResolvedComponent.SCHEMA,
            object=ERROR_COMPONENT,
            schema=_error_schema(),
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _error_example_ref(self, code: models.TextChoices) -> dict[str, str]:
        # Once in components/examples, referred to by every operation that can answer it.
        component = ResolvedComponent(
            name=f"error_{code.value}",
            type=ResolvedComponent.EXAMPLE,
            object=f"error_{code.value}",
            schema=_error_example(code),
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        by_status: dict[int, list[models.TextChoices]] = {}
        for code in self.error_codes():
            by_status.setdefault(STATUS_BY_CODE[code], []).append(code)
        for status in sorted(by_status):
            listed = ", ".join(f"`{code.value}`" for code in by_status[status])
            responses.setdefault(
                str(status),
                {
                    "description": f"Error: {listed}.",
                    "content": {
                        "application/json": {
                            "schema": self._error_ref(),
                            "examples": {
                                code.value: self._error_example_ref(code)
                                for code in by_status[status]
                            },
                        }
                    },
                },
            )
        return responses

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
        view = self._partner_view()
        if view is not None and self.method == "POST":
            added.append(self._idempotency_parameter(view))
        names = {(p["in"], p["name"]) for p in added}
        return [p for p in parameters if (p["in"], p["name"]) not in names] + added

    def _idempotency_parameter(self, view: PartnerEndpoint) -> dict[str, Any]:
        if not self._stores_idempotency_keys():
            return {
                "in": "header",
                "name": "Idempotency-Key",
                "schema": {"type": "string"},
                "description": "Accepted and ignored: this operation answers afresh every time.",
            }
        required = bool(view.idempotency_required)
        return {
            "in": "header",
            "name": "Idempotency-Key",
            "required": required,
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": 255,
                "pattern": _IDEMPOTENCY_KEY.pattern,
            },
            "description": (
                "Runs the request at most once per partner and key (kept "
                f"{settings.SANPO_IDEMPOTENCY_KEY_TTL_HOURS} h): the same key and body replay "
                "the first answer; the same key with another request is a 422; a duplicate "
                "still running is a 409." + (" Required here." if required else "")
            ),
        }

    # --- input limits ----------------------------------------------------------------------

    def _map_basic_serializer(self, serializer: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        if isinstance(serializer, StrictInputSerializer) or (
            isinstance(serializer, type) and issubclass(serializer, StrictInputSerializer)
        ):
            schema["additionalProperties"] = False
            schema.update(getattr(serializer, "openapi_extra", {}))
        if get_override(serializer, "description") is None:
            schema.pop("description", None)  # a docstring, written for Sanpo's developers
        return schema

    def _map_response_type_hint(self, method: Any) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_response_type_hint(method)
        schema.pop("description", None)  # a SerializerMethodField's docstring, as above
        return schema

    def _map_serializer_field(
        self, field: Any, direction: Any, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request" or schema is None:
            return schema
        if (
            isinstance(field, serializers.CharField)
            and not field.allow_blank
            and schema.get("type") == "string"
        ):
            # DRF refuses "" (and, trimming, whitespace alone) in a field that may not be blank.
            schema.setdefault("minLength", 1)
            has_regex = any(isinstance(v, RegexValidator) for v in field.validators)
            if field.trim_whitespace and not has_regex and not {"pattern", "format"} & set(schema):
                schema["pattern"] = NON_BLANK
        if (
            isinstance(field, serializers.ListField | serializers.ListSerializer)
            and not field.allow_empty
            and schema.get("type") == "array"
        ):
            schema.setdefault("minItems", 1)
        return schema


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "partners.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A partner API key: `Authorization: Bearer sanpo_…`.",
        }


class EnglishSchemaGenerator(SchemaGenerator):
    """The schema in English whatever language is active: model labels and choice names are
    translated for people, but the API's documentation is written in the language its codes
    and field names are (a ``manage.py`` command runs in Japanese, as do requests that ask)."""

    def get_schema(self, *args: Any, **kwargs: Any) -> Any:
        with translation.override("en"):
            return _evaluated(super().get_schema(*args, **kwargs))


def _evaluated(value: Any) -> Any:
    """``value`` with its lazy strings made plain while English is active: the schema is
    rendered after the generator returns, under the request's language."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dict):
        return {key: _evaluated(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_evaluated(item) for item in value]
    return value
