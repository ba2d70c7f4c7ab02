"""The campaign routes, included by ``federation.urls`` under /api/v1/."""

from django.urls import path

from federation.campaigns import api

_ONE = "campaigns/<str:campaign_id>"

urlpatterns = [
    path("campaigns", api.CampaignListApi.as_view(), name="campaign-list"),
    path(_ONE, api.CampaignDetailApi.as_view(), name="campaign-detail"),
    path(f"{_ONE}/images", api.CampaignImagesApi.as_view(), name="campaign-images"),
    path(f"{_ONE}/images/<str:position>", api.CampaignImageApi.as_view(), name="campaign-image"),
    path(f"{_ONE}/reach", api.CampaignReachApi.as_view(), name="campaign-reach"),
    path(f"{_ONE}/propose", api.CampaignProposeApi.as_view(), name="campaign-propose"),
    path(f"{_ONE}/shipment", api.CampaignShipmentApi.as_view(), name="campaign-shipment"),
    path(f"{_ONE}/results", api.CampaignResultsApi.as_view(), name="campaign-results"),
    path(f"{_ONE}/approve", api.CampaignApproveApi.as_view(), name="campaign-approve"),
    path(f"{_ONE}/reject", api.CampaignRejectApi.as_view(), name="campaign-reject"),
    path(f"{_ONE}/confirmations", api.CampaignConfirmApi.as_view(), name="campaign-confirm"),
    path(f"{_ONE}/promote", api.CampaignPromoteApi.as_view(), name="campaign-promote"),
    path(f"{_ONE}/answers", api.CampaignAnswerApi.as_view(), name="campaign-answer"),
]
