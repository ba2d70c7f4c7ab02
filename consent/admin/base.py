"""Who sees consent rows in the console, and that nobody changes them there.

Alliance managers see every page here. Compliance reviewers read the consent record (the
events, states, withdrawals, provisions, requests and chain runs) when they are signed in to
the console; they read it on the compliance pages, and their accounts are not staff accounts
today, so the console itself turns them away. Partner staff see nothing here. A role, never a
model permission or the superuser flag (see ``partners.access.staff_role_of``)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from partners.access import has_staff_role
from partners.admin.export import CsvExportMixin
from partners.models import StaffRole


class ConsentConsoleAdmin(CsvExportMixin, admin.ModelAdmin):
    """A read-only console page of consent rows, for the roles in ``readers``. A page that
    writes through a service (publishing a notice) does so on a page of its own."""

    readers: tuple[StaffRole.Role, ...] = (StaffRole.Role.ALLIANCE_MANAGER,)

    def may_read(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(getattr(user, "is_staff", False)) and has_staff_role(user, *self.readers)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.may_read(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.may_read(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ConsentRecordAdmin(ConsentConsoleAdmin):
    """A page of the consent record: compliance reviewers read it too."""

    readers = (StaffRole.Role.ALLIANCE_MANAGER, StaffRole.Role.COMPLIANCE_REVIEWER)
