"""The partners app's own endpoints; the API root that gathers every app's is config.urls."""

from django.urls import path

from partners.api import members, views

urlpatterns = [
    path("me", views.MeApi.as_view(), name="me"),
    path("partners", views.PartnerListApi.as_view(), name="partner-list"),
    path("partners/<str:partner_id>", views.PartnerDetailApi.as_view(), name="partner-detail"),
    path("api-keys", views.ApiKeyListApi.as_view(), name="api-key-list"),
    path("api-keys/<str:key_id>", views.ApiKeyDetailApi.as_view(), name="api-key-detail"),
    path("api-keys/<str:key_id>/revoke", views.ApiKeyRevokeApi.as_view(), name="api-key-revoke"),
    path("api-keys/<str:key_id>/rotate", views.ApiKeyRotateApi.as_view(), name="api-key-rotate"),
    path("webhook-endpoints", views.WebhookEndpointListApi.as_view(), name="webhook-list"),
    path(
        "webhook-endpoints/<str:endpoint_id>",
        views.WebhookEndpointDetailApi.as_view(),
        name="webhook-detail",
    ),
    path(
        "webhook-endpoints/<str:endpoint_id>/rotate-secret",
        views.WebhookEndpointRotateSecretApi.as_view(),
        name="webhook-rotate-secret",
    ),
    path(
        "webhook-endpoints/<str:endpoint_id>/ping",
        views.WebhookEndpointPingApi.as_view(),
        name="webhook-ping",
    ),
    path(
        "webhook-endpoints/<str:endpoint_id>/deliveries",
        views.WebhookDeliveryListApi.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "webhook-event-types", views.WebhookEventTypeListApi.as_view(), name="webhook-event-types"
    ),
    path("members", members.MemberListApi.as_view(), name="member-list"),
    # Before members/<member_number>, which would otherwise take "bulk" for a member number.
    path("members/bulk", members.MemberBulkApi.as_view(), name="member-bulk"),
    path("members/<str:member_number>", members.MemberDetailApi.as_view(), name="member-detail"),
    path(
        "members/<str:member_number>/deactivate",
        members.MemberDeactivateApi.as_view(),
        name="member-deactivate",
    ),
]
