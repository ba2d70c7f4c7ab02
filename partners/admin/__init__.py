"""The alliance managers' console. Every change goes through partners.services, so the admin
writes the same audit events and grants as the API; the audit log and delivery log are
read-only. Member personal data is never loaded to list or edit accounts: it is decrypted only
on an explicit, audited "Show personal data". Every list exports as CSV (``export``)."""

from django.contrib import admin

from partners.admin import alliance, audit, member_imports, members

# The alliance console's log-in says where partner staff and reviewers sign in instead.
admin.site.login_template = "admin/partners/alliance_login.html"

__all__ = ["alliance", "audit", "member_imports", "members"]
