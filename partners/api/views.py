from datetime import timedelta
from typing import Any

from drf_spectacular.utils import extend_schema
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
    """Who am I: the partner and the key making this call."""

    class MeOutput(serializers.Serializer):
        partner = PartnerOutput()
        api_key = ApiKeyOutput()

    @extend_schema(responses=MeOutput)
    def get(self, request: Request) -> Response:
        return Response(
            self.MeOutput({"partner": self.partner, "api_key": self.principal.api_key}).data
        )


class PartnerListApi(PartnerEndpoint):
    @extend_schema(responses=page_of(PartnerOutput))
    def get(self, request: Request) -> Response:
        return self.paginated(selectors.partner_list(principal=self.partner), PartnerOutput)


class PartnerDetailApi(PartnerEndpoint):
    @extend_schema(responses=PartnerOutput)
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

    @extend_schema(responses=page_of(ApiKeyOutput))
    def get(self, request: Request) -> Response:
        return self.paginated(selectors.api_key_list(principal=self.partner), ApiKeyOutput)

    @extend_schema(request=ApiKeyListInput, responses={201: IssuedKeyOutput})
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

    @extend_schema(responses=ApiKeyOutput)
    def get(self, request: Request, key_id: str) -> Response:
        return Response(ApiKeyOutput(access_api_key_by_id(self.partner, key_id)).data)


class ApiKeyRevokeApi(PartnerEndpoint):
    required_scopes = {"POST": ADMIN}

    @extend_schema(request=None, responses=ApiKeyOutput)
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

    @extend_schema(request=ApiKeyRotateInput, responses={201: IssuedKeyOutput})
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

    @extend_schema(responses=page_of(WebhookEndpointOutput))
    def get(self, request: Request) -> Response:
        endpoints = selectors.webhook_endpoint_list(principal=self.partner)
        return self.paginated(endpoints, WebhookEndpointOutput)

    @extend_schema(request=WebhookEndpointListInput, responses={201: WebhookEndpointCreatedOutput})
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

    @extend_schema(responses=WebhookEndpointOutput)
    def get(self, request: Request, endpoint_id: str) -> Response:
        endpoint = access_webhook_endpoint_by_id(self.partner, endpoint_id)
        return Response(WebhookEndpointOutput(endpoint).data)

    @extend_schema(request=WebhookEndpointDetailInput, responses=WebhookEndpointOutput)
    @raises(ErrorCode.WEBHOOK_URL_REFUSED)
    def patch(self, request: Request, endpoint_id: str) -> Response:
        endpoint = access_webhook_endpoint_by_id(self.partner, endpoint_id, need="write")
        data = self.WebhookEndpointDetailInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(
            endpoint=endpoint, actor=self.actor, **data.validated_data
        )
        return Response(WebhookEndpointOutput(endpoint).data)

    @extend_schema(responses={204: None})
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
        request=WebhookEndpointRotateSecretInput, responses=WebhookEndpointRotateSecretOutput
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
    """Send a ``webhook.ping`` delivery to this endpoint now. 409 ``data_key_unavailable``,
    with nothing queued, when its signing secret cannot be decrypted."""

    required_scopes = {"POST": ADMIN}

    @extend_schema(request=None, responses={202: WebhookDeliveryOutput})
    def post(self, request: Request, endpoint_id: str) -> Response:
        endpoint = access_webhook_endpoint_by_id(self.partner, endpoint_id, need="write")
        delivery = services.webhook_endpoint_ping(endpoint=endpoint)
        return Response(WebhookDeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryListApi(PartnerEndpoint):
    required_scopes = {"GET": ADMIN}

    @extend_schema(responses=page_of(WebhookDeliveryOutput))
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
    @extend_schema(responses=WebhookEventTypeListOutput)
    def get(self, request: Request) -> Response:
        types = [{"type": name, "description": text} for name, text in sorted(EVENT_TYPES.items())]
        return Response({"results": types})
