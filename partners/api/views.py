from datetime import timedelta
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from partners import selectors, services
from partners.access import (
    access_api_key_by_id,
    access_partner_by_id,
    access_webhook_endpoint_by_id,
)
from partners.api.base import PartnerEndpoint, StrictInputSerializer
from partners.api.pagination import page_of
from partners.api.schema import raises
from partners.errors import ErrorCode
from partners.models import ApiKey, ApiScope, Partner, WebhookDelivery, WebhookEndpoint
from partners.webhook_events import EVENT_TYPES

ADMIN = ApiScope.ADMIN.value
READ = ApiScope.READ.value

# Examples for the docs (fictional companies; ids and keys made up).
_KEY = {
    "id": "0b7e6f0c-2f4d-4a7e-9a51-3c2d1e0f9a8b",
    "name": "nightly report",
    "prefix": "sanpo_Mk4QzR8wTb_…",
    "scopes": ["read"],
    "created_at": "2026-12-01T00:00:00Z",
    "expires_at": "2027-03-30T15:00:00Z",
    "revoked_at": None,
    "last_used_at": None,
    "replaced_by": None,
}
_ISSUED = OpenApiExample(
    "Issued",
    value={**_KEY, "key": "sanpo_Mk4QzR8wTb_q3Vt9cXbN2rLw7HsZp5KdJy8GfA4eU6mT0aRk1y"},
    response_only=True,
    status_codes=[201],
)
_ENDPOINT = {
    "id": "5c1a9e2b-7d3f-4b8a-8e6c-0f2d4a6b8c1e",
    "url": "https://hooks.midori-fitness.example/sanpo",
    "description": "CRM sync",
    "events": ["consent.withdrawn", "enrollment.created"],
    "is_active": True,
    "created_at": "2026-12-01T00:00:00Z",
}


class PartnerOutput(serializers.ModelSerializer):
    class Meta:
        model = Partner
        fields = ["id", "slug", "name_ja", "name_latin", "kind", "holds_customer_data", "status"]


class ApiKeyOutput(serializers.ModelSerializer):
    prefix = serializers.CharField(source="masked")
    replaced_by = serializers.UUIDField(source="replaced_by_id", allow_null=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "replaced_by",
        ]


class IssuedKeyOutput(ApiKeyOutput):
    key = serializers.CharField(help_text="The key itself. Shown once; store it now.")

    class Meta(ApiKeyOutput.Meta):
        fields = [*ApiKeyOutput.Meta.fields, "key"]


def _issued(issued: services.IssuedKey) -> dict[str, Any]:
    data = dict(ApiKeyOutput(issued.api_key).data)
    data["key"] = issued.plaintext
    return data


class MeApi(PartnerEndpoint):
    class MeOutput(serializers.Serializer):
        partner = PartnerOutput()
        api_key = ApiKeyOutput()

    @extend_schema(
        responses=MeOutput,
        summary="Who am I",
        description="The company and the API key making this call: a first request to check "
        "that a key works and which scopes it holds.",
    )
    def get(self, request: Request) -> Response:
        return Response(
            self.MeOutput({"partner": self.partner, "api_key": self.principal.api_key}).data
        )


class PartnerListApi(PartnerEndpoint):
    @extend_schema(
        responses=page_of(PartnerOutput),
        summary="List partners",
        description="The companies of the alliance your company may see: itself, the host, "
        "and those it shares an agreement with.",
    )
    def get(self, request: Request) -> Response:
        return self.paginated(selectors.partner_list(principal=self.partner), PartnerOutput)


class PartnerDetailApi(PartnerEndpoint):
    @extend_schema(
        responses=PartnerOutput,
        summary="Get a partner",
        description="One company your company may see; any other id is a 404.",
    )
    def get(self, request: Request, partner_id: str) -> Response:
        partner = access_partner_by_id(self.partner, partner_id)
        return Response(PartnerOutput(partner).data)


class ApiKeyListApi(PartnerEndpoint):
    required_scopes = {"GET": ADMIN, "POST": ADMIN}
    idempotency_redact = ("key",)

    class ApiKeyListInput(StrictInputSerializer):
        name = serializers.CharField(max_length=100)
        scopes = serializers.ListField(
            child=serializers.ChoiceField(choices=ApiScope.choices), min_length=1, max_length=20
        )
        expires_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema(
        responses=page_of(ApiKeyOutput),
        summary="List API keys",
        description="Your company's keys, revoked and expired ones included, newest first. "
        "The keys themselves are never shown again: only their masked prefix.",
    )
    def get(self, request: Request) -> Response:
        return self.paginated(selectors.api_key_list(principal=self.partner), ApiKeyOutput)

    @extend_schema(
        request=ApiKeyListInput,
        responses={201: IssuedKeyOutput},
        summary="Issue an API key",
        description="A new key for your company with the scopes given (at most those of the "
        "key making the call: 403 `insufficient_scope` otherwise) and an optional expiry. The "
        "answer carries the key itself, once: store it now. A replay under the same "
        "`Idempotency-Key` omits it.",
        examples=[
            OpenApiExample(
                "A read-only key for a reporting job",
                value={
                    "name": "nightly report",
                    "scopes": ["read"],
                    "expires_at": "2027-03-31T00:00:00+09:00",
                },
                request_only=True,
            ),
            _ISSUED,
        ],
    )
    @raises(ErrorCode.PERMISSION_DENIED)
    def post(self, request: Request) -> Response:
        data = self.ApiKeyListInput(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.api_key_issue(
            partner=self.partner, actor=self.actor, **data.validated_data
        )
        return Response(_issued(issued), status=status.HTTP_201_CREATED)


class ApiKeyDetailApi(PartnerEndpoint):
    required_scopes = {"GET": ADMIN}

    @extend_schema(
        responses=ApiKeyOutput,
        summary="Get an API key",
        description="One of your company's keys, masked.",
        examples=[OpenApiExample("A key", value=_KEY, response_only=True)],
    )
    def get(self, request: Request, key_id: str) -> Response:
        return Response(ApiKeyOutput(access_api_key_by_id(self.partner, key_id)).data)


class ApiKeyRevokeApi(PartnerEndpoint):
    required_scopes = {"POST": ADMIN}

    @extend_schema(
        request=None,
        responses=ApiKeyOutput,
        summary="Revoke an API key",
        description="The key stops working at once; revoking it again changes nothing. "
        "Sends `api_key.revoked` to your webhooks.",
    )
    def post(self, request: Request, key_id: str) -> Response:
        api_key = access_api_key_by_id(self.partner, key_id, need="write")
        return Response(
            ApiKeyOutput(services.api_key_revoke(api_key=api_key, actor=self.actor)).data
        )


class RotationInput(StrictInputSerializer):
    # No docstring: the API schema would show it as the description of each rotation input.
    overlap_hours = serializers.IntegerField(min_value=0, max_value=24 * 30, required=False)

    def overlap(self) -> timedelta | None:
        """How long the old key or secret keeps working; None for the service's default."""
        hours = self.validated_data.get("overlap_hours")
        return timedelta(hours=hours) if hours is not None else None


class ApiKeyRotateApi(PartnerEndpoint):
    required_scopes = {"POST": ADMIN}
    idempotency_redact = ("key",)

    class ApiKeyRotateInput(RotationInput):
        expires_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema(
        request=ApiKeyRotateInput,
        responses={201: IssuedKeyOutput},
        summary="Rotate an API key",
        description="Issues a successor with the same name and scopes; the old key keeps "
        "working for `overlap_hours` (24 by default, 0 ends it now), so you can deploy the new "
        "one without downtime. A revoked or expired key, or one already rotated, is a 409 "
        "`conflict`. "
        "The new key is shown once.",
        examples=[
            OpenApiExample(
                "Keep the old key for two hours",
                value={"overlap_hours": 2, "expires_at": None},
                request_only=True,
            ),
            _ISSUED,
        ],
    )
    @raises(ErrorCode.CONFLICT)
    def post(self, request: Request, key_id: str) -> Response:
        data = self.ApiKeyRotateInput(data=request.data)
        data.is_valid(raise_exception=True)
        api_key = access_api_key_by_id(self.partner, key_id, need="write")
        issued = services.api_key_rotate(
            api_key=api_key,
            actor=self.actor,
            overlap=data.overlap(),
            expires_at=data.validated_data.get("expires_at"),
        )
        return Response(_issued(issued), status=status.HTTP_201_CREATED)


class WebhookEndpointOutput(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "events", "is_active", "created_at"]


class WebhookEndpointCreatedOutput(WebhookEndpointOutput):
    secret = serializers.CharField(help_text="The signing secret. Shown once; store it now.")

    class Meta(WebhookEndpointOutput.Meta):
        fields = [*WebhookEndpointOutput.Meta.fields, "secret"]


def _event_list_field(**kwargs: Any) -> serializers.ListField:
    # Choices are read when the serializer is built, so types registered by apps count.
    return serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(EVENT_TYPES)), max_length=50, **kwargs
    )


class WebhookEndpointListApi(PartnerEndpoint):
    required_scopes = {"GET": ADMIN, "POST": ADMIN}
    idempotency_redact = ("secret",)

    class WebhookEndpointListInput(StrictInputSerializer):
        url = serializers.URLField(max_length=500)
        description = serializers.CharField(max_length=200, required=False, default="")

        def get_fields(self) -> dict[str, serializers.Field]:
            fields = super().get_fields()
            fields["events"] = _event_list_field(min_length=1)
            return fields

    @extend_schema(
        responses=page_of(WebhookEndpointOutput),
        summary="List webhook endpoints",
        description="Your company's webhook receivers, newest first. Secrets are not shown.",
    )
    def get(self, request: Request) -> Response:
        endpoints = selectors.webhook_endpoint_list(principal=self.partner)
        return self.paginated(endpoints, WebhookEndpointOutput)

    @extend_schema(
        request=WebhookEndpointListInput,
        responses={201: WebhookEndpointCreatedOutput},
        summary="Register a webhook endpoint",
        description="A receiver for the events listed. The URL must be `https` and resolve to "
        "a public address (400 `webhook_url_refused` otherwise). The answer carries the signing "
        "secret, once: store it to verify deliveries (see *Webhooks*).",
        examples=[
            OpenApiExample(
                "Withdrawals and enrollments",
                value={
                    "url": "https://hooks.midori-fitness.example/sanpo",
                    "description": "CRM sync",
                    "events": ["consent.withdrawn", "enrollment.created"],
                },
                request_only=True,
            ),
            OpenApiExample(
                "Registered",
                value={**_ENDPOINT, "secret": "whsec_7GQ2mV9xK4tB8nR1pL6cW3zY5hJ0dF"},
                response_only=True,
                status_codes=[201],
            ),
        ],
    )
    @raises(ErrorCode.WEBHOOK_URL_REFUSED)
    def post(self, request: Request) -> Response:
        data = self.WebhookEndpointListInput(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.webhook_endpoint_create(
            partner=self.partner, actor=self.actor, **data.validated_data
        )
        body = dict(WebhookEndpointOutput(created.endpoint).data, secret=created.secret)
        return Response(body, status=status.HTTP_201_CREATED)


class WebhookEndpointDetailApi(PartnerEndpoint):
    required_scopes = {"GET": ADMIN, "PATCH": ADMIN, "DELETE": ADMIN}

    class WebhookEndpointDetailInput(StrictInputSerializer):
        url = serializers.URLField(max_length=500, required=False)
        description = serializers.CharField(max_length=200, required=False)
        is_active = serializers.BooleanField(required=False)

        def get_fields(self) -> dict[str, serializers.Field]:
            fields = super().get_fields()
            fields["events"] = _event_list_field(min_length=1, required=False)
            return fields

    @extend_schema(
        responses=WebhookEndpointOutput,
        summary="Get a webhook endpoint",
        description="One of your company's receivers, without its secret.",
        examples=[OpenApiExample("An endpoint", value=_ENDPOINT, response_only=True)],
    )
    def get(self, request: Request, endpoint_id: str) -> Response:
        endpoint = access_webhook_endpoint_by_id(self.partner, endpoint_id)
        return Response(WebhookEndpointOutput(endpoint).data)

    @extend_schema(
        request=WebhookEndpointDetailInput,
        responses=WebhookEndpointOutput,
        summary="Change a webhook endpoint",
        description="Changes the fields sent and nothing else; `is_active: false` pauses "
        "deliveries. A new URL is checked as at registration.",
        examples=[
            OpenApiExample("Pause it", value={"is_active": False}, request_only=True),
            OpenApiExample(
                "Subscribe to fewer events",
                value={"events": ["consent.withdrawn"]},
                request_only=True,
            ),
        ],
    )
    @raises(ErrorCode.WEBHOOK_URL_REFUSED)
    def patch(self, request: Request, endpoint_id: str) -> Response:
        endpoint = access_webhook_endpoint_by_id(self.partner, endpoint_id, need="write")
        data = self.WebhookEndpointDetailInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(
            endpoint=endpoint, actor=self.actor, **data.validated_data
        )
        return Response(WebhookEndpointOutput(endpoint).data)

    @extend_schema(
        responses={204: None},
        summary="Delete a webhook endpoint",
        description="Removes the receiver: no event is sent to it any more.",
    )
    def delete(self, request: Request, endpoint_id: str) -> Response:
        endpoint = access_webhook_endpoint_by_id(self.partner, endpoint_id, need="delete")
        services.webhook_endpoint_delete(endpoint=endpoint, actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEndpointRotateSecretApi(PartnerEndpoint):
    required_scopes = {"POST": ADMIN}
    idempotency_redact = ("secret",)

    class WebhookEndpointRotateSecretInput(RotationInput):
        pass

    class WebhookEndpointRotateSecretOutput(serializers.Serializer):
        secret = serializers.CharField()

    @extend_schema(
        request=WebhookEndpointRotateSecretInput,
        responses=WebhookEndpointRotateSecretOutput,
        summary="Rotate a webhook signing secret",
        description="A new signing secret, shown once. For `overlap_hours` (24 by default) "
        "each delivery is signed under both secrets (one `v1` each), so the receiver can "
        "switch without missing a delivery; 0 drops the old secret now.",
        examples=[
            OpenApiExample("Overlap for an hour", value={"overlap_hours": 1}, request_only=True),
            OpenApiExample(
                "The new secret",
                value={"secret": "whsec_Q8wE3rT6yU1iO4pA7sD0fG2hJ5kL9z"},
                response_only=True,
            ),
        ],
    )
    def post(self, request: Request, endpoint_id: str) -> Response:
        data = self.WebhookEndpointRotateSecretInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = access_webhook_endpoint_by_id(self.partner, endpoint_id, need="write")
        secret = services.webhook_endpoint_rotate_secret(
            endpoint=endpoint, actor=self.actor, overlap=data.overlap()
        )
        return Response({"secret": secret})


class WebhookDeliveryOutput(serializers.ModelSerializer):
    class AttemptOutput(serializers.Serializer):
        number = serializers.IntegerField()
        started_at = serializers.DateTimeField()
        duration_ms = serializers.IntegerField()
        status_code = serializers.IntegerField(allow_null=True)
        error = serializers.CharField()

    attempts = AttemptOutput(many=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "state",
            "attempt_count",
            "next_attempt_at",
            "created_at",
            "completed_at",
            "attempts",
        ]


class WebhookEndpointPingApi(PartnerEndpoint):
    required_scopes = {"POST": ADMIN}

    @extend_schema(
        request=None,
        responses={202: WebhookDeliveryOutput},
        summary="Send a test event",
        description="Queues a `webhook.ping` delivery to this endpoint now and answers the "
        "delivery, to follow in its log. 409 `data_key_unavailable`, with nothing queued, when "
        "its signing secret cannot be decrypted (rotate it with `overlap_hours: 0`).",
    )
    @raises(ErrorCode.DATA_KEY_UNAVAILABLE)
    def post(self, request: Request, endpoint_id: str) -> Response:
        endpoint = access_webhook_endpoint_by_id(self.partner, endpoint_id, need="write")
        delivery = services.webhook_endpoint_ping(endpoint=endpoint)
        return Response(WebhookDeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryListApi(PartnerEndpoint):
    required_scopes = {"GET": ADMIN}

    @extend_schema(
        responses=page_of(WebhookDeliveryOutput),
        summary="List an endpoint's deliveries",
        description="Every delivery to this endpoint, newest first, with each attempt: when, "
        "how long, the status your receiver answered or the error.",
    )
    def get(self, request: Request, endpoint_id: str) -> Response:
        endpoint = access_webhook_endpoint_by_id(self.partner, endpoint_id)
        deliveries = selectors.webhook_delivery_list(endpoint=endpoint)
        return self.paginated(deliveries, WebhookDeliveryOutput)


class WebhookEventTypeOutput(serializers.Serializer):
    type = serializers.CharField()
    description = serializers.CharField()


class WebhookEventTypeListOutput(serializers.Serializer):
    results = WebhookEventTypeOutput(many=True)


class WebhookEventTypeListApi(PartnerEndpoint):
    @extend_schema(
        responses=WebhookEventTypeListOutput,
        summary="List webhook event types",
        description="Every event a receiver may subscribe to, with what it means.",
        examples=[
            OpenApiExample(
                "Some types",
                value={
                    "results": [
                        {
                            "type": "consent.withdrawn",
                            "description": "A member withdrew a consent you received data under.",
                        },
                        {"type": "webhook.ping", "description": "A test delivery sent on request."},
                    ]
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        types = [{"type": name, "description": text} for name, text in sorted(EVENT_TYPES.items())]
        return Response({"results": types})
