"""The one error shape of the API, and the handler that maps every error onto it:

{"error": {"code": "validation_failed", "message": "Some fields are not valid.",
           "fields": {"name": ["This field is required."]}}}
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response

from partners.crypto import (
    DataErasedError,
    DataIntegrityError,
    DataKeyUnavailableError,
    UndecryptableError,
)
from partners.errors import STATUS_BY_CODE, ApplicationError, ErrorCode
from partners.unavailable import RETRY_AFTER_SECONDS, database_unavailable

logger = logging.getLogger(__name__)


def error_body(
    code: models.TextChoices,
    message: str | Promise,
    fields: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    # str(): the message in the language of the request, not of whoever renders it later.
    error: dict[str, Any] = {"code": code.value, "message": str(message)}
    if fields:
        error["fields"] = fields
    error.update(extra)
    return {"error": error}


def _flatten_detail(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {
            str(key): [str(item) for item in value]
            if isinstance(value, list) and all(not isinstance(i, dict | list) for i in value)
            else _flatten_detail(value)
            for key, value in detail.items()
        }
    if isinstance(detail, list):
        return [
            str(item) if not isinstance(item, dict | list) else _flatten_detail(item)
            for item in detail
        ]
    return [str(detail)]


def _from_drf(exc: exceptions.APIException) -> ApplicationError:
    if isinstance(exc, exceptions.ParseError):
        return ApplicationError(
            ErrorCode.MALFORMED_JSON,
            _("The body is not valid JSON: %(detail)s") % {"detail": exc.detail},
        )
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten_detail(exc.detail)
        if isinstance(fields, list):
            fields = {"non_field_errors": fields}
        return ApplicationError(ErrorCode.VALIDATION_FAILED, fields=fields)
    if isinstance(exc, exceptions.NotAuthenticated):
        return ApplicationError(ErrorCode.AUTHENTICATION_REQUIRED)
    if isinstance(exc, exceptions.AuthenticationFailed):
        return ApplicationError(ErrorCode.INVALID_API_KEY)
    if isinstance(exc, exceptions.PermissionDenied):
        return ApplicationError(ErrorCode.PERMISSION_DENIED)
    if isinstance(exc, exceptions.NotFound):
        return ApplicationError(ErrorCode.NOT_FOUND)
    if isinstance(exc, exceptions.MethodNotAllowed):
        return ApplicationError(ErrorCode.METHOD_NOT_ALLOWED, str(exc.detail))
    if isinstance(exc, exceptions.NotAcceptable):
        return ApplicationError(ErrorCode.NOT_ACCEPTABLE)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return ApplicationError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, str(exc.detail))
    if isinstance(exc, exceptions.Throttled):
        wait = int(getattr(exc, "wait", None) or 1)
        return ApplicationError(
            ErrorCode.RATE_LIMITED,
            _("Too many requests with this API key; retry in %(wait)d s.") % {"wait": wait},
            headers={"Retry-After": str(wait)},
        )
    return ApplicationError(ErrorCode.INVALID_REQUEST, str(exc.detail))


def _from_undecryptable(exc: UndecryptableError) -> ApplicationError:
    # Never the stored value, nor which key or column: that is for the audit log and the
    # operator, who is the one able to act.
    if isinstance(exc, DataErasedError):
        return ApplicationError(ErrorCode.CONFLICT, _("This member's data has been erased."))
    if isinstance(exc, DataKeyUnavailableError):
        return ApplicationError(
            ErrorCode.DATA_KEY_UNAVAILABLE,
            _(
                "Stored data this request needs is encrypted under a key that is no longer "
                "configured, so nothing was done. This is recorded; please contact Sanpo "
                "support."
            ),
        )
    assert isinstance(exc, DataIntegrityError), type(exc)
    return ApplicationError(
        ErrorCode.DATA_INTEGRITY_FAILED,
        _(
            "Stored data this request needs failed its integrity check, so it was not used and "
            "nothing was done. This is recorded; please contact Sanpo support."
        ),
    )


def to_application_error(exc: Exception) -> ApplicationError | None:
    if isinstance(exc, ApplicationError):
        return exc
    if isinstance(exc, UndecryptableError):
        return _from_undecryptable(exc)
    if isinstance(exc, RequestDataTooBig):
        return ApplicationError(ErrorCode.PAYLOAD_TOO_LARGE)
    if isinstance(exc, exceptions.APIException):
        return _from_drf(exc)
    if isinstance(exc, Http404):
        return ApplicationError(ErrorCode.NOT_FOUND)
    if isinstance(exc, DjangoPermissionDenied):
        return ApplicationError(ErrorCode.PERMISSION_DENIED)
    if isinstance(exc, DjangoValidationError):
        fields = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return ApplicationError(ErrorCode.VALIDATION_FAILED, fields=fields)
    if database_unavailable(exc):
        return ApplicationError(
            ErrorCode.SERVICE_UNAVAILABLE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )
    if isinstance(exc, SuspiciousOperation):
        return ApplicationError(
            ErrorCode.INVALID_REQUEST, _("The request was refused as malformed.")
        )
    return None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    error = to_application_error(exc)
    if error is None:
        return None  # a real bug: let Django log it and answer with handler500
    response = Response(
        error_body(error.code, error.message, error.fields, **error.extra), status=error.status
    )
    for name, value in error.headers.items():
        response[name] = value
    if error.code == ErrorCode.AUTHENTICATION_REQUIRED or STATUS_BY_CODE[error.code] == 401:
        response["WWW-Authenticate"] = 'Bearer realm="sanpo"'
    return response


def _json(body: dict[str, Any], status: int) -> JsonResponse:
    # UTF-8 as DRF renders it, so a Japanese message reads as Japanese, not \u escapes.
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def json_handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json(error_body(ErrorCode.NOT_FOUND, _("No such page or object.")), status=404)


def json_handler500(request: HttpRequest) -> JsonResponse:
    return _json(error_body(ErrorCode.INTERNAL_ERROR, ErrorCode.INTERNAL_ERROR.label), status=500)
