"""The admin index's address, ahead of the admin's own patterns (config/urls.py): behind the
admin's log-in like every admin page. ``admin:index`` still names it."""

from django.contrib import admin
from django.urls import path

from federation.dashboard import views

urlpatterns = [path("", admin.site.admin_view(views.admin_index), name="alliance-dashboard")]
