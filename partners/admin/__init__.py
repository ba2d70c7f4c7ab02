"""The alliance managers' console. Every change goes through partners.services, so the admin
writes the same audit events and grants as the API; the audit log and delivery log are
read-only. Member personal data is never loaded to list or edit accounts: it is decrypted only
on an explicit, audited "Show personal data"."""

from partners.admin import alliance, member_imports, members

__all__ = ["alliance", "member_imports", "members"]
