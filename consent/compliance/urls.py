"""The compliance pages, under /compliance/. Every list page has a ``.csv`` twin (the same view
as ``?format=csv``), but for the member search, whose CSV is a POST like the search itself."""

from django.contrib.auth.views import LogoutView
from django.urls import path, reverse_lazy

from consent.compliance import views

app_name = "compliance"

urlpatterns = [
    path(
        "login/",
        views.ComplianceLoginView.as_view(next_page=reverse_lazy("compliance:dashboard")),
        name="login",
    ),
    path("logout/", LogoutView.as_view(next_page=reverse_lazy("compliance:login")), name="logout"),
    path("", views.dashboard, name="dashboard"),
    path("counts.csv", views.dashboard, {"fmt": "csv"}, name="counts-csv"),
    path("search/", views.search, name="search"),
    path("search.csv", views.search_csv, name="search-csv"),
    path("members/<uuid:member_id>/", views.member_detail, name="member"),
    path("members/<uuid:member_id>/reveal/", views.member_reveal_view, name="member-reveal"),
    path(
        "members/<uuid:member_id>/<slug:list_name>.csv",
        views.member_detail,
        name="member-csv",
    ),
    path("withdrawals/overdue/", views.withdrawals_overdue, name="withdrawals-overdue"),
    path(
        "withdrawals/overdue.csv",
        views.withdrawals_overdue,
        {"fmt": "csv"},
        name="withdrawals-overdue-csv",
    ),
    path("chain/", views.chain, name="chain"),
    path("chain.csv", views.chain, {"fmt": "csv"}, name="chain-csv"),
    path("requests/", views.requests, name="requests"),
    path("requests.csv", views.requests, {"fmt": "csv"}, name="requests-csv"),
]
