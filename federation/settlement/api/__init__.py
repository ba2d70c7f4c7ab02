"""The settlement endpoints: a company's periods, its figures and statement, and disputes."""

from federation.settlement.api.disputes import SettlementDisputeApi
from federation.settlement.api.reading import (
    SettlementPeriodApi,
    SettlementPeriodListApi,
    SettlementSigningKeysApi,
    SettlementStatementApi,
    SettlementStatementCsvApi,
)

__all__ = [
    "SettlementDisputeApi",
    "SettlementPeriodApi",
    "SettlementPeriodListApi",
    "SettlementSigningKeysApi",
    "SettlementStatementApi",
    "SettlementStatementCsvApi",
]
