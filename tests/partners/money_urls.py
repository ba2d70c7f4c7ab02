"""A stand-in for the coin and money endpoints to come: the base endpoint's contract for
``idempotency_required`` is tested here, before any such endpoint exists."""

from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response

from partners.api.base import PartnerEndpoint
from partners.models import AuditEvent


class RecordTransferApi(PartnerEndpoint):
    required_scopes = {"POST": "write"}
    idempotency_required = True

    def post(self, request: Request) -> Response:
        # A visible write, so the test can count how often the handler really ran.
        event = AuditEvent.objects.create(action=AuditEvent.Action.PARTNER_CREATED, actor_label="t")
        return Response({"transfer": event.pk}, status=201)


class RefusedOnceTransferApi(PartnerEndpoint):
    """Refuses its first request (as for too few coins) and would accept any later one."""

    required_scopes = {"POST": "write"}
    idempotency_required = True
    calls = 0

    def post(self, request: Request) -> Response:
        RefusedOnceTransferApi.calls += 1
        AuditEvent.objects.create(action=AuditEvent.Action.PARTNER_CREATED, actor_label="t")
        if RefusedOnceTransferApi.calls == 1:
            return Response({"error": {"code": "conflict", "message": "Not now."}}, status=409)
        return Response({"transfer": "made"}, status=201)


urlpatterns = [
    path("api/v1/transfers", RecordTransferApi.as_view()),
    path("api/v1/refused-transfers", RefusedOnceTransferApi.as_view()),
    path("", include("config.urls")),
]
