"""Application errors: one enum of machine-readable codes, one exception type.

Services raise ``ApplicationError``; the API exception handler turns it (and Django's and DRF's
own errors) into the one error shape of the API. See ``partners.api.errors``.
"""

from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ErrorCode(models.TextChoices):
    INVALID_REQUEST = "invalid_request", _("The request is not valid.")
    VALIDATION_FAILED = "validation_failed", _("Some fields are not valid.")
    MALFORMED_JSON = "malformed_json", _("The body is not valid JSON.")
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", _("Send the body as application/json.")
    PAYLOAD_TOO_LARGE = "payload_too_large", _("The request body is too large.")
    AUTHENTICATION_REQUIRED = "authentication_required", _("Send an API key.")
    INVALID_API_KEY = "invalid_api_key", _("The API key is not valid.")
    API_KEY_REVOKED = "api_key_revoked", _("The API key has been revoked.")
    API_KEY_EXPIRED = "api_key_expired", _("The API key has expired.")
    PARTNER_SUSPENDED = "partner_suspended", _("The partner's access is suspended.")
    INSUFFICIENT_SCOPE = "insufficient_scope", _("The API key lacks the scope for this.")
    PERMISSION_DENIED = "permission_denied", _("You may not do this.")
    NOT_FOUND = "not_found", _("No such object.")
    METHOD_NOT_ALLOWED = "method_not_allowed", _("This method is not allowed here.")
    NOT_ACCEPTABLE = "not_acceptable", _("Only application/json responses are available.")
    CONFLICT = "conflict", _("The request conflicts with the current state.")
    IDEMPOTENCY_KEY_REQUIRED = "idempotency_key_required", _("Send an Idempotency-Key header.")
    IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid", _("The Idempotency-Key is not valid.")
    IDEMPOTENCY_KEY_REUSED = (
        "idempotency_key_reused",
        _("This Idempotency-Key was used for a different request."),
    )
    IDEMPOTENCY_REQUEST_IN_PROGRESS = (
        "idempotency_request_in_progress",
        _("A request with this Idempotency-Key is still being processed."),
    )
    RATE_LIMITED = "rate_limited", _("Too many requests.")
    WEBHOOK_URL_REFUSED = "webhook_url_refused", _("The webhook URL is not allowed.")
    DATA_INTEGRITY_FAILED = (
        "data_integrity_failed",
        _("Stored data failed its integrity check and was not used."),
    )
    DATA_KEY_UNAVAILABLE = (
        "data_key_unavailable",
        _("Stored data is encrypted under a key that is no longer configured."),
    )
    INTERNAL_ERROR = "internal_error", _("Something went wrong on our side.")
    SERVICE_UNAVAILABLE = (
        "service_unavailable",
        _("The service is briefly unavailable; nothing was done. Retry in a few seconds."),
    )


# The status of every registered code: the partners app's own below, the other apps' added with
# ``register_error_codes`` from their AppConfig.ready, so a feature's codes never edit this file.
STATUS_BY_CODE: dict[str, int] = {
    ErrorCode.INVALID_REQUEST: 400,
    ErrorCode.VALIDATION_FAILED: 400,
    ErrorCode.MALFORMED_JSON: 400,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.AUTHENTICATION_REQUIRED: 401,
    ErrorCode.INVALID_API_KEY: 401,
    ErrorCode.API_KEY_REVOKED: 401,
    ErrorCode.API_KEY_EXPIRED: 401,
    ErrorCode.PARTNER_SUSPENDED: 403,
    ErrorCode.INSUFFICIENT_SCOPE: 403,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.NOT_ACCEPTABLE: 406,
    ErrorCode.CONFLICT: 409,
    ErrorCode.IDEMPOTENCY_KEY_REQUIRED: 400,
    ErrorCode.IDEMPOTENCY_KEY_INVALID: 400,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: 422,
    ErrorCode.IDEMPOTENCY_REQUEST_IN_PROGRESS: 409,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.WEBHOOK_URL_REFUSED: 400,
    # The request is fine; the stored state it needs cannot be used until an operator acts.
    ErrorCode.DATA_INTEGRITY_FAILED: 409,
    ErrorCode.DATA_KEY_UNAVAILABLE: 409,
    ErrorCode.INTERNAL_ERROR: 500,
}


# Every registered code, by its value, with its label (the default message).
ERROR_CODES: dict[str, models.TextChoices] = {code.value: code for code in ErrorCode}


def register_error_codes(codes: type[models.TextChoices], statuses: dict[str, int]) -> None:
    """Register an app's error codes and the HTTP status of each (every code needs one)."""
    missing = {code.value for code in codes} - set(statuses)
    clashes = {code.value for code in codes} & set(ERROR_CODES)
    if missing or clashes:
        raise ValueError(f"Error codes without a status {missing} or registered twice {clashes}")
    ERROR_CODES.update({code.value: code for code in codes})
    STATUS_BY_CODE.update({str(code): status for code, status in statuses.items()})


class ApplicationError(Exception):
    """An error the caller can act on: a code from ErrorCode, a message, field errors.

    The message is made in the language active where the error is raised (the request's);
    without one, the code's label is the message."""

    def __init__(
        self,
        code: models.TextChoices,
        message: str | Promise | None = None,
        *,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.code = code
        self.message: str = str(message or code.label)
        self.fields = fields or {}
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return STATUS_BY_CODE[self.code]


_OBJECT = _("object")


def not_found(what: str | Promise = _OBJECT) -> ApplicationError:
    """One message for missing and not-yours, so a refusal never confirms that an object
    exists. ``what`` is a noun in the active language: ``not_found(_("member"))``."""
    return ApplicationError(ErrorCode.NOT_FOUND, gettext("No such %(what)s.") % {"what": what})


def validation_failed(field: str, message: str | Promise) -> ApplicationError:
    """``validation_failed`` naming one field; ``message`` is in the active language."""
    return ApplicationError(ErrorCode.VALIDATION_FAILED, fields={field: [str(message)]})
