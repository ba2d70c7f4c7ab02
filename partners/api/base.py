"""The base of every partner API endpoint: authentication, scopes, rate limits, one error
shape, atomic writes and Idempotency-Key handling. Later apps subclass ``PartnerEndpoint``."""

import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import django_filters as df
from django.db import DatabaseError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from partners.actors import Actor
from partners.api.authentication import PartnerPrincipal
from partners.api.filters import apply_filters
from partners.api.pagination import CappedCursorPagination
from partners.crypto import UndecryptableError
from partners.errors import ApplicationError, ErrorCode
from partners.models import IdempotencyKey, Partner
from partners.services import (
    audit_undecryptable,
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
)

_IDEMPOTENCY_KEY = re.compile(IdempotencyKey.KEY_PATTERN)
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

Handler = Callable[..., Response]


class PartnerEndpoint(APIView):
    """Subclasses declare ``required_scopes`` per method and obtain objects only through
    ``<app>.access`` functions, which answer 404 alike for missing and not-yours objects.

    Writes run in one transaction that rolls back on any 4xx, so a refused request never
    leaves a partial write. A POST with an ``Idempotency-Key`` runs at most once per partner
    and key; ``idempotency_required`` makes the key mandatory (coins and money), and keeps a
    refusal as the key's final answer too.

    Stored data that cannot be read (``UndecryptableError``) is answered 409 and, unless it
    was erased, recorded as a security event once that transaction is over, so the record
    survives the rollback of the request it refused.
    """

    required_scopes: ClassVar[dict[str, str]] = {}
    idempotency_required: ClassVar[bool] = False
    # Response fields never stored for replay (secrets shown once): a replay omits them.
    idempotency_redact: ClassVar[tuple[str, ...]] = ()

    @property
    def principal(self) -> PartnerPrincipal:
        principal = self.request.user
        assert isinstance(principal, PartnerPrincipal)
        return principal

    @property
    def partner(self) -> Partner:
        return self.principal.partner

    @property
    def actor(self) -> Actor:
        return Actor(
            api_key=self.principal.api_key, ip_address=self.request.META.get("REMOTE_ADDR")
        )

    def validated(self, serializer: type[serializers.Serializer]) -> dict[str, Any]:
        """The request body as ``serializer`` validates it; a body it refuses is a 400
        ``validation_failed`` naming each field, before anything is written."""
        data = serializer(data=self.request.data)
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    def filtered_page(
        self,
        filters: type[df.FilterSet],
        queryset: Any,
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

    def paginated(
        self,
        queryset: Any,
        output: type[serializers.BaseSerializer],
        *,
        pagination: type[CappedCursorPagination] = CappedCursorPagination,
        present: Callable[[Any], Any] | None = None,
    ) -> Response:
        """One cursor page of ``queryset``, each row turned into what ``output`` renders by
        ``present`` (the caller's view of it) when given: the one way every list pages."""
        paginator = pagination()
        page: Any = paginator.paginate_queryset(queryset, self.request, view=self)
        items = [present(row) for row in page] if present is not None else page
        return paginator.get_paginated_response(output(items, many=True).data)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Response:
        # DRF's dispatch, with the handler call routed through the write guards below.
        self.args = args
        self.kwargs = kwargs
        drf_request = self.initialize_request(request, *args, **kwargs)
        self.request = drf_request
        self.headers = self.default_response_headers
        self._unreadable: list[UndecryptableError] = []
        try:
            self.initial(drf_request, *args, **kwargs)
            method = (drf_request.method or "GET").upper()
            handler = getattr(self, method.lower(), self.http_method_not_allowed)
            if method not in {m.upper() for m in self.http_method_names}:
                handler = self.http_method_not_allowed
            if method == "POST":
                response = self._run_idempotently(handler, drf_request, *args, **kwargs)
            elif method in _WRITE_METHODS:
                response = self._run_atomically(handler, drf_request, *args, **kwargs)
            else:
                response = handler(drf_request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        self._audit_unreadable(drf_request)
        for name, value in getattr(drf_request, "rate_limit", {}).items():
            response[name] = value
        self.response = self.finalize_response(drf_request, response, *args, **kwargs)
        return self.response

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, UndecryptableError):
            self._unreadable.append(exc)
        return super().handle_exception(exc)

    def _audit_unreadable(self, request: Request) -> None:
        # Runs after the handler's transaction has ended (rolled back, for the 409 it got).
        if not self._unreadable or not isinstance(request.user, PartnerPrincipal):
            return
        for error in self._unreadable:
            with transaction.atomic():
                audit_undecryptable(
                    error=error,
                    actor=self.actor,
                    partner=self.partner,
                    detail={"request": f"{request.method} {request.path}"},
                )

    def _call(self, handler: Handler, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return handler(request, *args, **kwargs)
        except Exception as exc:
            return self.handle_exception(exc)

    def _run_atomically(
        self, handler: Handler, request: Request, *args: Any, **kwargs: Any
    ) -> Response:
        with transaction.atomic():
            response = self._call(handler, request, *args, **kwargs)
            if response.status_code >= 400:
                transaction.set_rollback(True)
        return response

    def _run_idempotently(
        self, handler: Handler, request: Request, *args: Any, **kwargs: Any
    ) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            if self.idempotency_required:
                raise ApplicationError(ErrorCode.IDEMPOTENCY_KEY_REQUIRED)
            return self._run_atomically(handler, request, *args, **kwargs)
        if not _IDEMPOTENCY_KEY.match(key):
            raise ApplicationError(
                ErrorCode.IDEMPOTENCY_KEY_INVALID,
                _("An Idempotency-Key is 1 to 255 printable ASCII characters."),
            )
        record = idempotency_claim(
            partner=self.partner,
            key=key,
            method=request.method or "POST",
            path=request.path,
            body=request._request.body,  # the raw bytes, before DRF parses them
        )
        with transaction.atomic():
            try:
                # The first request holds this row lock until it commits; a duplicate that
                # cannot take it is still running elsewhere and gets 409, never a wait or 500.
                with transaction.atomic():
                    record = IdempotencyKey.objects.select_for_update(nowait=True).get(pk=record.pk)
            except (DatabaseError, IdempotencyKey.DoesNotExist):
                raise ApplicationError(ErrorCode.IDEMPOTENCY_REQUEST_IN_PROGRESS) from None
            if record.state == IdempotencyKey.State.COMPLETED:
                assert record.response_status is not None
                return Response(
                    record.response_body,
                    status=record.response_status,
                    headers={"Idempotent-Replayed": "true"},
                )
            savepoint = transaction.savepoint()
            response = self._call(handler, request, *args, **kwargs)
            if response.status_code < 400:
                transaction.savepoint_commit(savepoint)
                idempotency_complete(
                    record=record,
                    status=response.status_code,
                    body=self._redacted(response.data),
                )
            elif self._refusal_is_final(response):
                # Coins and money: a refused request (too few coins, say) changes nothing,
                # and its retry is refused the same way, never let through later by surprise.
                transaction.savepoint_rollback(savepoint)
                idempotency_complete(
                    record=record,
                    status=response.status_code,
                    body=self._redacted(response.data),
                )
            else:
                # A refused request changes nothing, and its key may be used again.
                transaction.savepoint_rollback(savepoint)
                idempotency_release(record=record)
        return response

    def _refusal_is_final(self, response: Response) -> bool:
        """Where the key is required (coins, money), a 4xx answer is the request's final one
        and is replayed like a success: a retry with the same key cannot turn a refusal into
        a posting. A rate limit and a server error are no answer to the request: released."""
        return (
            self.idempotency_required
            and 400 <= response.status_code < 500
            and (response.status_code != 429)
        )

    def _redacted(self, data: Any) -> Any:
        if isinstance(data, Mapping) and self.idempotency_redact:
            return {k: v for k, v in data.items() if k not in self.idempotency_redact}
        return data


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not declare, so an attempt to set
    ``partner``, ``status`` or any other privileged field is an error, never silently dropped.
    """

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {"non_field_errors": [_("Send a JSON object.")]}, code="invalid"
            )
        writable = {name for name, field in self.fields.items() if not field.read_only}
        unknown = sorted(set(data) - writable)
        if unknown:
            raise serializers.ValidationError(
                {name: [_("Unknown or read-only field.")] for name in unknown},
                code="unknown_field",
            )
        not_text = _not_text(self.fields, data)
        if not_text:
            raise serializers.ValidationError(not_text, code="invalid")
        return super().to_internal_value(data)


def _not_text(fields: Mapping[str, serializers.Field], data: Mapping[str, Any]) -> dict[str, Any]:
    """The errors for values given where text is expected but that are not JSON strings.

    DRF's CharField turns ``123`` into ``"123"``, so ``"name": 123`` or ``"members": [7]``
    would be accepted as text; a client that sends a number there has a bug worth hearing
    about. Nested input serializers run this check on their own fields."""
    errors: dict[str, Any] = {}
    for name, field in fields.items():
        value = data.get(name)
        if isinstance(field, serializers.CharField) and _is_not_text(value):
            errors[name] = [str(field.error_messages["invalid"])]
        elif (
            isinstance(field, serializers.ListField)
            and isinstance(field.child, serializers.CharField)
            and isinstance(value, list)
        ):
            message = str(field.child.error_messages["invalid"])
            items = {str(i): [message] for i, item in enumerate(value) if _is_not_text(item)}
            if items:
                errors[name] = items
    return errors


def _is_not_text(value: Any) -> bool:
    return value is not None and not isinstance(value, str)
