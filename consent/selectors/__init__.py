"""Consent reads: the one question (``consent_check`` and its other forms, all from the one
rule in ``consent.rule``), the notice in force, and one member's own record (their grants,
withdrawals and the provisions of their data) for the preference page."""

from consent.rule import Decision
from consent.selectors.check import (
    consent_check,
    consent_check_many,
    consent_in_force_sql,
    consented_member_ids,
    consenting_states,
)
from consent.selectors.grants import member_held_grants
from consent.selectors.member_record import (
    member_provisions,
    member_standing_withdrawal,
    member_withdrawal,
    member_withdrawals,
    notice_in_force_for_reader,
)
from consent.selectors.notices import current_conditions, notice_in_force

__all__ = [
    "Decision",
    "consent_check",
    "consent_check_many",
    "consent_in_force_sql",
    "consented_member_ids",
    "consenting_states",
    "current_conditions",
    "member_held_grants",
    "member_provisions",
    "member_standing_withdrawal",
    "member_withdrawal",
    "member_withdrawals",
    "notice_in_force",
    "notice_in_force_for_reader",
]
