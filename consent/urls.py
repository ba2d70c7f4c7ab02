"""Consent endpoints, included in the partner API under /api/v1/."""

from django.urls import path

from consent import api

urlpatterns = [
    path("consent/purposes", api.PurposeListApi.as_view(), name="consent-purposes"),
    path("consent/notices/current", api.NoticeCurrentApi.as_view(), name="consent-notices"),
    path("consent/check", api.ConsentCheckApi.as_view(), name="consent-check"),
    path("consent/withdrawals", api.WithdrawalListApi.as_view(), name="consent-withdrawals"),
    path(
        "consent/withdrawals/<str:withdrawal_id>/acknowledge",
        api.WithdrawalAcknowledgeApi.as_view(),
        name="consent-withdrawal-acknowledge",
    ),
    path(
        "members/<str:member_number>/consents",
        api.MemberConsentListApi.as_view(),
        name="member-consents",
    ),
    path(
        "members/<str:member_number>/preference-link",
        api.PreferenceLinkApi.as_view(),
        name="member-preference-link",
    ),
    path("data-requests", api.DataRequestListApi.as_view(), name="data-requests"),
    path(
        "data-requests/<str:request_id>",
        api.DataRequestDetailApi.as_view(),
        name="data-request-detail",
    ),
    path(
        "data-requests/<str:request_id>/export",
        api.DataRequestExportApi.as_view(),
        name="data-request-export",
    ),
    path(
        "members/<str:member_number>/data-requests",
        api.MemberDataRequestApi.as_view(),
        name="member-data-requests",
    ),
    path(
        "members/<str:member_number>/consents/withdraw",
        api.MemberConsentWithdrawApi.as_view(),
        name="member-consents-withdraw",
    ),
]
