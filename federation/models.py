"""The federation app's models, one module per domain (``federation.<domain>.models``); Django
reads them here. Tables keep their ``federation_`` names: moving a model between domains never
moves its table."""

from federation.agreements.models import Agreement, AgreementParty, AgreementVersion
from federation.campaigns.models import (
    Campaign,
    CampaignImage,
    CampaignMember,
    SurveyAnswer,
    SurveyQuestion,
)
from federation.coins.models import (
    CoinAccount,
    CoinActionGrant,
    CoinActivity,
    CoinEntry,
    CoinReactivation,
    CoinTransaction,
)
from federation.enrollment.models import Enrollment, EnrollmentBatch
from federation.holdouts.models import Holdout
from federation.metrics.models import ActivityDay, LiftResult, RollupState
from federation.overlap.models import OverlapQuery, OverlapVisibility
from federation.referrals.models import (
    ReferralClick,
    ReferralConversion,
    ReferralFee,
    ReferralLink,
    ReferralOffer,
)
from federation.settlement.models import (
    SettlementAcknowledgement,
    SettlementDispute,
    SettlementLine,
    SettlementPayment,
    SettlementPeriod,
    SettlementRun,
    SettlementStatement,
)

__all__ = [
    "ActivityDay",
    "Agreement",
    "AgreementParty",
    "AgreementVersion",
    "Campaign",
    "CampaignImage",
    "CampaignMember",
    "CoinAccount",
    "CoinActionGrant",
    "CoinActivity",
    "CoinEntry",
    "CoinReactivation",
    "CoinTransaction",
    "Enrollment",
    "EnrollmentBatch",
    "Holdout",
    "LiftResult",
    "OverlapQuery",
    "OverlapVisibility",
    "ReferralClick",
    "ReferralConversion",
    "ReferralFee",
    "ReferralLink",
    "ReferralOffer",
    "RollupState",
    "SettlementAcknowledgement",
    "SettlementDispute",
    "SettlementLine",
    "SettlementPayment",
    "SettlementPeriod",
    "SettlementRun",
    "SettlementStatement",
    "SurveyAnswer",
    "SurveyQuestion",
]
