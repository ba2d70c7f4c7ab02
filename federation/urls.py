"""Federation endpoints, one API module per domain (agreements, coins, enrollment, overlap,
settlement, referrals), included in the partner API under /api/v1/."""

from django.urls import include, path

from federation.agreements import api
from federation.coins import api as api_coins
from federation.coins.api.deposit import CoinDepositReportApi
from federation.enrollment import api as api_enrollment
from federation.metrics.api import ActionLiftApi, ReactivationLiftApi
from federation.metrics.api_campaigns import CampaignLiftApi
from federation.metrics.api_figures import MetricsFiguresApi, MetricsFiguresCsvApi
from federation.overlap import api as api_overlap
from federation.referrals import api as api_referrals
from federation.settlement import api as api_settlement

urlpatterns = [
    path("", include("federation.campaigns.urls")),
    path("coins/purchases", api_coins.CoinPurchaseApi.as_view(), name="coin-purchase"),
    path("coins/actions", api_coins.CoinActionApi.as_view(), name="coin-action"),
    path("coins/refunds", api_coins.CoinRefundApi.as_view(), name="coin-refund"),
    path("coins/redemptions", api_coins.CoinRedemptionApi.as_view(), name="coin-redemption"),
    path("coins/balance", api_coins.CoinBalanceApi.as_view(), name="coin-balance"),
    path("coins/history", api_coins.CoinHistoryApi.as_view(), name="coin-history"),
    path("coins/liability", api_coins.CoinLiabilityApi.as_view(), name="coin-liability"),
    path("coins/expiring", api_coins.CoinExpiringApi.as_view(), name="coin-expiring"),
    path("coins/deposit-report", CoinDepositReportApi.as_view(), name="coin-deposit-report"),
    path(
        "metrics/lift/reactivation", ReactivationLiftApi.as_view(), name="metrics-reactivation-lift"
    ),
    path(
        "metrics/lift/actions",
        ActionLiftApi.as_view(),
        name="metrics-action-lift",
    ),
    path(
        "metrics/lift/campaigns/<str:campaign_id>",
        CampaignLiftApi.as_view(),
        name="metrics-campaign-lift",
    ),
    path("metrics/figures", MetricsFiguresApi.as_view(), name="metrics-figures"),
    path("metrics/figures.csv", MetricsFiguresCsvApi.as_view(), name="metrics-figures-csv"),
    path("coins/holds", api_coins.CoinHoldApi.as_view(), name="coin-hold"),
    path(
        "coins/holds/<str:hold_id>/capture",
        api_coins.CoinHoldCaptureApi.as_view(),
        name="coin-hold-capture",
    ),
    path(
        "coins/holds/<str:hold_id>/void", api_coins.CoinHoldVoidApi.as_view(), name="coin-hold-void"
    ),
    path(
        "coins/transactions/<str:transaction_id>/reverse",
        api_coins.CoinReversalApi.as_view(),
        name="coin-reversal",
    ),
    path("agreements", api.AgreementListApi.as_view(), name="agreement-list"),
    path(
        "agreements/<str:agreement_id>", api.AgreementDetailApi.as_view(), name="agreement-detail"
    ),
    path(
        "agreements/<str:agreement_id>/versions/<str:number>",
        api.AgreementVersionDetailApi.as_view(),
        name="agreement-version-detail",
    ),
    path(
        "agreements/<str:agreement_id>/versions/<str:number>/sign",
        api.AgreementVersionSignApi.as_view(),
        name="agreement-version-sign",
    ),
    path(
        "agreements/<str:agreement_id>/versions/<str:number>/diff",
        api.AgreementVersionDiffApi.as_view(),
        name="agreement-version-diff",
    ),
    path("enrollments", api_enrollment.EnrollmentListApi.as_view(), name="enrollment-list"),
    # Before enrollments/<enrollment_id>, which would otherwise take "bulk" for an id.
    path("enrollments/bulk", api_enrollment.EnrollmentBulkApi.as_view(), name="enrollment-bulk"),
    path(
        "enrollments/<str:enrollment_id>",
        api_enrollment.EnrollmentDetailApi.as_view(),
        name="enrollment-detail",
    ),
    path(
        "enrollments/<str:enrollment_id>/member",
        api_enrollment.EnrollmentMemberApi.as_view(),
        name="enrollment-member",
    ),
    path(
        "enrollments/<str:enrollment_id>/confirm",
        api_enrollment.EnrollmentConfirmApi.as_view(),
        name="enrollment-confirm",
    ),
    path(
        "enrollments/<str:enrollment_id>/end",
        api_enrollment.EnrollmentEndApi.as_view(),
        name="enrollment-end",
    ),
    path(
        "enrollment-batches/<str:batch_id>",
        api_enrollment.EnrollmentBatchDetailApi.as_view(),
        name="enrollment-batch-detail",
    ),
    path(
        "settlement/periods",
        api_settlement.SettlementPeriodListApi.as_view(),
        name="settlement-period-list",
    ),
    path(
        "settlement/periods/<str:period_id>",
        api_settlement.SettlementPeriodApi.as_view(),
        name="settlement-period",
    ),
    path(
        "settlement/periods/<str:period_id>/statement",
        api_settlement.SettlementStatementApi.as_view(),
        name="settlement-statement",
    ),
    path(
        "settlement/periods/<str:period_id>/statement.csv",
        api_settlement.SettlementStatementCsvApi.as_view(),
        name="settlement-statement-csv",
    ),
    path(
        "settlement/periods/<str:period_id>/statement.pdf",
        api_settlement.SettlementStatementPdfApi.as_view(),
        name="settlement-statement-pdf",
    ),
    path(
        "settlement/periods/<str:period_id>/payments",
        api_settlement.SettlementPaymentApi.as_view(),
        name="settlement-payments",
    ),
    path(
        "settlement/periods/<str:period_id>/acknowledgement",
        api_settlement.SettlementAcknowledgementApi.as_view(),
        name="settlement-acknowledgement",
    ),
    path(
        "settlement/signing-keys",
        api_settlement.SettlementSigningKeysApi.as_view(),
        name="settlement-signing-keys",
    ),
    path(
        "settlement/lines/<str:line_id>/disputes",
        api_settlement.SettlementDisputeApi.as_view(),
        name="settlement-dispute",
    ),
    path("referrals/offers", api_referrals.ReferralOfferListApi.as_view(), name="referral-offers"),
    path(
        "referrals/offers/<str:offer_id>/links",
        api_referrals.ReferralLinkListApi.as_view(),
        name="referral-links",
    ),
    path(
        "referrals/conversions",
        api_referrals.ReferralConversionApi.as_view(),
        name="referral-conversions",
    ),
    path("referrals/refunds", api_referrals.ReferralRefundApi.as_view(), name="referral-refunds"),
    path("referrals/funnel", api_referrals.ReferralFunnelApi.as_view(), name="referral-funnel"),
    path("overlap", api_overlap.OverlapApi.as_view(), name="overlap"),
    path(
        "overlap/visibility",
        api_overlap.OverlapVisibilityListApi.as_view(),
        name="overlap-visibility-list",
    ),
    path(
        "overlap/visibility/<str:viewer_slug>",
        api_overlap.OverlapVisibilityDetailApi.as_view(),
        name="overlap-visibility-detail",
    ),
]
