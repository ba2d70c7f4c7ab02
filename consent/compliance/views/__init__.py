"""The compliance pages: read-only, server-rendered, no JavaScript, printable.

Every list is also a CSV download (``?format=csv`` or the list's ``.csv`` address) built from
the same selector as the page; the member search and its CSV are POST forms instead, so that
what was searched for stays out of URLs. Nothing here writes except the reveal, which goes
through ``partners.services.member_reveal`` and so leaves an audit event naming the reviewer.
The log-in form refuses more guesses after a few failures (``access.login_locked_out``).
"""

from consent.compliance.views.login import ComplianceLoginView
from consent.compliance.views.members import member_detail, member_reveal_view, search, search_csv
from consent.compliance.views.registers import chain, dashboard, requests, withdrawals_overdue

__all__ = [
    "ComplianceLoginView",
    "chain",
    "dashboard",
    "member_detail",
    "member_reveal_view",
    "requests",
    "search",
    "search_csv",
    "withdrawals_overdue",
]
