"""The settlement endpoints: a company's periods, its figures and statement, and disputes."""

from federation.settlement.api.disputes import SettlementAcknowledgementApi, SettlementDisputeApi
from federation.settlement.api.payments import SettlementPaymentApi
from federation.settlement.api.reading import (
    SettlementPeriodApi,
    SettlementPeriodListApi,
    SettlementSigningKeysApi,
    SettlementStatementApi,
    SettlementStatementCsvApi,
    SettlementStatementPdfApi,
)

__all__ = [
    "SettlementAcknowledgementApi",
    "SettlementDisputeApi",
    "SettlementPaymentApi",
    "SettlementPeriodApi",
    "SettlementPeriodListApi",
    "SettlementSigningKeysApi",
    "SettlementStatementApi",
    "SettlementStatementCsvApi",
    "SettlementStatementPdfApi",
]
