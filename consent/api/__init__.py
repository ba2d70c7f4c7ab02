"""Consent endpoints, one module per subject: the purpose catalogue and the notice in force,
recording and withdrawing a member's consent, the one question ("may I use these members' data
for this purpose now?"), withdrawals and preference links, and data-subject requests.

Partners act only on their own member accounts. The host's portal records consents on the
member's behalf for any recipient; a partner brand records only consents it collected itself,
in its own channels, with itself as the recipient. Consent events are never changed or deleted
through the API: a change of mind is a new grant or a withdrawal.
"""

from consent.api.catalogue import NoticeCurrentApi, PurposeListApi
from consent.api.check import ConsentCheckApi
from consent.api.data_requests import (
    DataRequestDetailApi,
    DataRequestExportApi,
    DataRequestListApi,
    MemberDataRequestApi,
)
from consent.api.records import MemberConsentListApi, MemberConsentWithdrawApi
from consent.api.withdrawals import PreferenceLinkApi, WithdrawalAcknowledgeApi, WithdrawalListApi

__all__ = [
    "ConsentCheckApi",
    "DataRequestDetailApi",
    "DataRequestExportApi",
    "DataRequestListApi",
    "MemberConsentListApi",
    "MemberConsentWithdrawApi",
    "MemberDataRequestApi",
    "NoticeCurrentApi",
    "PreferenceLinkApi",
    "PurposeListApi",
    "WithdrawalAcknowledgeApi",
    "WithdrawalListApi",
]
