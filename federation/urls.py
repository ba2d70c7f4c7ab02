"""Agreement endpoints, included in the partner API under /api/v1/."""

from django.urls import path

from federation import api

urlpatterns = [
    path("agreements", api.AgreementListApi.as_view(), name="agreement-list"),
    path(
        "agreements/<str:agreement_id>", api.AgreementDetailApi.as_view(), name="agreement-detail"
    ),
    path(
        "agreements/<str:agreement_id>/versions/<str:number>",
        api.AgreementVersionDetailApi.as_view(),
        name="agreement-version-detail",
    ),
    path(
        "agreements/<str:agreement_id>/versions/<str:number>/sign",
        api.AgreementVersionSignApi.as_view(),
        name="agreement-version-sign",
    ),
    path(
        "agreements/<str:agreement_id>/versions/<str:number>/diff",
        api.AgreementVersionDiffApi.as_view(),
        name="agreement-version-diff",
    ),
]
