"""Consent writes: publishing notices, recording grants and withdrawals, telling recipients,
verifying the chains, keeping provision records and answering data-subject requests.

Every later feature asks ``consent.selectors.consent_check`` at the moment it uses member data;
the writes here keep what that question reads exact.
"""

from consent.services.data_export import EXPORT_FORMAT, data_request_export
from consent.services.data_requests import data_request_submit, identity_verify
from consent.services.notices import notice_publish
from consent.services.provisions import (
    provision_partitions_maintain,
    provision_record,
    provision_records_purge,
)
from consent.services.records import (
    GENESIS_HASH,
    consent_event_partitions_maintain,
    consent_grant,
    consent_withdraw,
    consents_withdraw_all,
    event_hash,
)
from consent.services.verification import (
    MAX_RECORDED_BREAKS,
    ChainBreak,
    chain_problem_text,
    chain_verify,
    chains_verify_all,
    duplicate_event_hashes,
)
from consent.services.withdrawals import (
    erasure_notify_recipients,
    withdrawal_acknowledge,
    withdrawal_due,
    withdrawals_resend_unacknowledged,
)

__all__ = [
    "EXPORT_FORMAT",
    "GENESIS_HASH",
    "MAX_RECORDED_BREAKS",
    "ChainBreak",
    "chain_problem_text",
    "chain_verify",
    "chains_verify_all",
    "consent_event_partitions_maintain",
    "consent_grant",
    "consent_withdraw",
    "consents_withdraw_all",
    "data_request_export",
    "data_request_submit",
    "duplicate_event_hashes",
    "erasure_notify_recipients",
    "event_hash",
    "identity_verify",
    "notice_publish",
    "provision_partitions_maintain",
    "provision_record",
    "provision_records_purge",
    "withdrawal_acknowledge",
    "withdrawal_due",
    "withdrawals_resend_unacknowledged",
]
