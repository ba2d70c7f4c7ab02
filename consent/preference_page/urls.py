"""The member's preference page, outside the API: reachable only with a signed link."""

from django.urls import path

from consent.preference_page import views

urlpatterns = [
    path("<str:token>/", views.preference_page, name="preference-page"),
    path("<str:token>/withdraw", views.preference_withdraw, name="preference-withdraw"),
]
