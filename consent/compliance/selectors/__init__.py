"""Reads for the compliance pages: each list is one query with its related rows joined, so a
page costs the same number of queries whatever its length.

Member accounts are read without their ciphertexts (``partners.selectors.MEMBER_CLEAR_FIELDS``,
or the opaque columns deferred when joined): these pages only decrypt through
``partners.services.member_reveal``, which records who looked and why.
"""

from consent.compliance.selectors.members import (
    MAX_SEARCH_RESULTS,
    SearchBy,
    member_get,
    member_get_sealed,
    member_linked_accounts,
    member_search,
)
from consent.compliance.selectors.record import (
    ConsentCount,
    ConsentStatus,
    consent_counts,
    consent_states,
    consent_timeline,
    provision_records,
    recipients,
)
from consent.compliance.selectors.registers import (
    ChainRuns,
    RequestCounts,
    RequestFilter,
    chain_breaks,
    chain_runs,
    data_subject_request_counts,
    data_subject_requests,
    member_withdrawal_notices,
    withdrawal_overdue_before,
    withdrawals_overdue,
    withdrawals_overdue_count,
)

__all__ = [
    "MAX_SEARCH_RESULTS",
    "ChainRuns",
    "ConsentCount",
    "ConsentStatus",
    "RequestCounts",
    "RequestFilter",
    "SearchBy",
    "chain_breaks",
    "chain_runs",
    "consent_counts",
    "consent_states",
    "consent_timeline",
    "data_subject_request_counts",
    "data_subject_requests",
    "member_get",
    "member_get_sealed",
    "member_linked_accounts",
    "member_search",
    "member_withdrawal_notices",
    "provision_records",
    "recipients",
    "withdrawal_overdue_before",
    "withdrawals_overdue",
    "withdrawals_overdue_count",
]
