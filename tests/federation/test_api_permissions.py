"""Who may call what in the federation API: its permission matrix (the machinery is shared,
``tests.permission_matrix``)."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction

from federation import services
from federation import urls as federation_urls
from federation.campaigns.api.images import PIXEL_PNG
from federation.coins.models import CoinAccount, CoinHold, CoinTransaction
from federation.coins.services import coins_earn_for_purchase, coins_hold_at, coins_redeem_at
from federation.coins.services.actions import action_key, reactivation_key
from federation.holdouts.models import Holdout
from federation.holdouts.services import holdout_for
from federation.models import (
    Agreement,
    AgreementParty,
    AgreementVersion,
    Enrollment,
    EnrollmentBatch,
    OverlapQuery,
    OverlapVisibility,
)
from federation.referrals.models import (
    ReferralConversion,
    ReferralFee,
    ReferralLink,
    ReferralOffer,
)
from federation.referrals.services import (
    Referral,
    referral_click,
    referral_conversion_report,
    referral_link_create,
    referral_offer_create,
)
from federation.settlement.models import (
    SettlementAcknowledgement,
    SettlementDispute,
    SettlementLine,
    SettlementPeriod,
)
from federation.settlement.services import (
    period_create,
    period_issue,
    period_lock,
    period_review_open,
    settlement_line_post,
)
from partners.actors import Actor
from partners.models import Partner
from partners.pii import pseudonym_for
from tests.conftest import Key
from tests.factories import flow, grant_consent, make_agreement, make_member, make_notice
from tests.federation.test_campaigns import QUESTIONS, campaign_world, campaigns_state
from tests.permission_matrix import (
    Endpoint,
    World,
    base_world,
    check_every_caller,
    check_indistinguishable,
    routes_covered,
    routes_of,
)

ENDPOINTS = [
    Endpoint(
        "coin-purchase",
        "post",
        "/api/v1/coins/purchases",
        "write",
        201,
        {"member_number": "BC-7731", "amount_yen": "2500", "order_id": "BC-ORDER-2"},
        stranger=(404, "not_found"),  # not its member
    ),
    Endpoint(
        "coin-refund",
        "post",
        "/api/v1/coins/refunds",
        "write",
        201,
        {"order_id": "BC-ORDER-1"},
        stranger=(404, "not_found"),  # not its order
    ),
    Endpoint(
        "coin-action",
        "post",
        "/api/v1/coins/actions",
        "write",
        201,
        {"member_number": "BC-7731", "action_type": "video_watched"},
        stranger=(404, "not_found"),
    ),
    Endpoint(
        "coin-redemption",
        "post",
        "/api/v1/coins/redemptions",
        "write",
        201,
        {"member_number": "BC-7731", "coins": 10, "reference": "TILL-1"},
        stranger=(404, "not_found"),
    ),
    Endpoint(
        "coin-balance",
        "get",
        "/api/v1/coins/balance",
        "read",
        200,
        query="member_number=BC-7731",
        stranger=(404, "not_found"),
    ),
    Endpoint("coin-liability", "get", "/api/v1/coins/liability", "read", 200),
    Endpoint("coin-expiring", "get", "/api/v1/coins/expiring", "read", 200, query="days=30"),
    Endpoint(
        "coin-deposit-report",
        "get",
        "/api/v1/coins/deposit-report",
        "read",
        200,
        query="base_date=2026-03-31",
    ),
    Endpoint(
        "metrics-reactivation-lift",
        "get",
        "/api/v1/metrics/lift/reactivation",
        "read",
        200,
        query="from=2026-09-01&to=2026-09-30",
        stranger=(422, "no_holdout"),  # no programme of its own holds anyone out
    ),
    Endpoint(
        "metrics-action-lift",
        "get",
        "/api/v1/metrics/lift/actions",
        "read",
        200,
        query="action_type=video_watched&from=2026-09-01&to=2026-09-30",
        stranger=(422, "no_holdout"),  # its own rule of that name holds no one out
    ),
    Endpoint("metrics-figures", "get", "/api/v1/metrics/figures", "read", 200, query="grain=week"),
    Endpoint("metrics-figures-csv", "get", "/api/v1/metrics/figures.csv", "read", 200),
    Endpoint(
        "coin-hold",
        "post",
        "/api/v1/coins/holds",
        "write",
        201,
        {"member_number": "BC-7731", "coins": 5, "reference": "CART-1"},
        stranger=(404, "not_found"),
    ),
    Endpoint(
        "coin-hold-capture", "post", "/api/v1/coins/holds/{hold_id}/capture", "write", 200, {}
    ),
    Endpoint("coin-hold-void", "post", "/api/v1/coins/holds/{hold_id}/void", "write", 200, {}),
    Endpoint(
        "coin-reversal",
        "post",
        "/api/v1/coins/transactions/{transaction_id}/reverse",
        "write",
        201,
        {},
    ),
    Endpoint(
        "coin-history",
        "get",
        "/api/v1/coins/history",
        "read",
        200,
        query="member_number=BC-7731",
        stranger=(404, "not_found"),
    ),
    Endpoint("agreement-list", "get", "/api/v1/agreements", "read", 200),
    Endpoint("agreement-detail", "get", "/api/v1/agreements/{agreement_id}", "read", 200),
    Endpoint(
        "agreement-version-detail",
        "get",
        "/api/v1/agreements/{agreement_id}/versions/{number}",
        "read",
        200,
    ),
    Endpoint(
        "agreement-version-sign",
        "post",
        "/api/v1/agreements/{agreement_id}/versions/{number}/sign",
        "admin",
        200,
        {"signed_by": "鈴木 一郎 (代表取締役)"},
    ),
    Endpoint(
        "agreement-version-diff",
        "get",
        "/api/v1/agreements/{agreement_id}/versions/{number}/diff",
        "read",
        200,
        query="against={against}",
    ),
    Endpoint("enrollment-list", "get", "/api/v1/enrollments", "read", 200),
    Endpoint(
        "enrollment-create",
        "post",
        "/api/v1/enrollments",
        "write",
        201,
        {"member_number": "BC-7731", "target": "host-co"},
        stranger=(404, "not_found"),  # the member number is not in its base
    ),
    Endpoint(
        "enrollment-bulk",
        "post",
        "/api/v1/enrollments/bulk",
        "write",
        202,
        {"target": "host-co", "member_numbers": ["BC-7731"]},
        stranger=(403, "no_agreement"),
    ),
    Endpoint("enrollment-detail", "get", "/api/v1/enrollments/{enrollment_id}", "read", 200),
    Endpoint("enrollment-member", "get", "/api/v1/enrollments/{enrollment_id}/member", "read", 200),
    Endpoint(
        "enrollment-confirm",
        "post",
        "/api/v1/enrollments/{enrollment_id}/confirm",
        "write",
        200,
        {"member_number": "BC-LINKED-1"},
    ),
    Endpoint(
        "enrollment-end",
        "post",
        "/api/v1/enrollments/{enrollment_id}/end",
        "write",
        200,
        {"reason": "the member left"},
    ),
    Endpoint(
        "enrollment-batch-detail", "get", "/api/v1/enrollment-batches/{batch_id}", "read", 200
    ),
    Endpoint(
        "overlap",
        "get",
        "/api/v1/overlap",
        "read",
        200,
        query="other=host-co&breakdown=kind",
        stranger=(403, "no_agreement"),
    ),
    Endpoint("campaign-list", "get", "/api/v1/campaigns", "read", 200),
    Endpoint(
        "campaign-create",
        "post",
        "/api/v1/campaigns",
        "write",
        201,
        {
            "name_ja": "試供品",
            "name_en": "Sample",
            "description_ja": "説明",
            "description_en": "About it",
            "category": "snacks",
            "quantity": 10,
            "segment": {"kinds": ["household"]},
            "starts_on": "2026-12-01",
            "ends_on": "2027-01-31",
            "selection": "direct",
            "coins_per_answer": 10,
            "questions": QUESTIONS,
        },
        stranger=(403, "no_agreement"),  # no sampling agreement with the host
    ),
    Endpoint("campaign-detail", "get", "/api/v1/campaigns/{campaign_id}", "read", 200),
    Endpoint("campaign-reach", "get", "/api/v1/campaigns/{campaign_id}/reach", "read", 200),
    Endpoint(
        "campaign-images",
        "post",
        "/api/v1/campaigns/{campaign_id}/images",
        "write",
        201,
        {"content_type": "image/png", "content": PIXEL_PNG},
    ),
    Endpoint(
        "campaign-image",
        "get",
        "/api/v1/campaigns/{campaign_id}/images/{image_position}",
        "read",
        200,
    ),
    Endpoint(
        "campaign-propose", "post", "/api/v1/campaigns/{campaign_id}/propose", "write", 200, {}
    ),
    Endpoint(
        "campaign-shipment",
        "post",
        "/api/v1/campaigns/{shipping_campaign_id}/shipment",
        "write",
        201,
        {},
    ),
    Endpoint(
        "campaign-results", "get", "/api/v1/campaigns/{survey_campaign_id}/results", "read", 200
    ),
    Endpoint(
        "metrics-campaign-lift",
        "get",
        "/api/v1/metrics/lift/campaigns/{survey_campaign_id}",
        "read",
        200,
    ),
    # The host's doors: the partner that proposed the campaign finds none (it cannot approve
    # its own campaign, nor answer for the host's members); the host's success is tested in
    # test_campaign_api.
    Endpoint(
        "campaign-approve", "post", "/api/v1/campaigns/{campaign_id}/approve", "admin", 404, {}
    ),
    Endpoint(
        "campaign-reject",
        "post",
        "/api/v1/campaigns/{campaign_id}/reject",
        "admin",
        404,
        {"reason": "Not for us"},
    ),
    Endpoint(
        "campaign-confirm",
        "post",
        "/api/v1/campaigns/{campaign_id}/confirmations",
        "write",
        404,
        {"member_number": "H-900"},
    ),
    Endpoint(
        "campaign-answer",
        "post",
        "/api/v1/campaigns/{survey_campaign_id}/answers",
        "write",
        404,
        {"member_number": "H-900", "answers": {"1": 5}},
    ),
    Endpoint(
        "campaign-promote",
        "post",
        "/api/v1/campaigns/{survey_campaign_id}/promote",
        "admin",
        404,
        {"landing_url": "https://brand.example/protein-bar"},
    ),
    Endpoint("overlap-visibility-list", "get", "/api/v1/overlap/visibility", "read", 200),
    Endpoint("settlement-period-list", "get", "/api/v1/settlement/periods", "read", 200),
    Endpoint("settlement-period", "get", "/api/v1/settlement/periods/{period_id}", "read", 200),
    Endpoint(
        "settlement-statement",
        "get",
        "/api/v1/settlement/periods/{period_id}/statement",
        "read",
        200,
    ),
    Endpoint(
        "settlement-statement-csv",
        "get",
        "/api/v1/settlement/periods/{period_id}/statement.csv",
        "read",
        200,
    ),
    Endpoint(
        "settlement-statement-pdf",
        "get",
        "/api/v1/settlement/periods/{period_id}/statement.pdf",
        "read",
        200,
    ),
    Endpoint(
        "settlement-acknowledgement",
        "post",
        "/api/v1/settlement/periods/{issued_period_id}/acknowledgement",
        "write",
        201,
        {"sha256": "{statement_sha256}"},
    ),
    Endpoint("settlement-signing-keys", "get", "/api/v1/settlement/signing-keys", "read", 200),
    # The period's host records payments; the partner, a company of the period, finds no such
    # period (the host's success is tested in test_settlement_payments_api).
    Endpoint(
        "settlement-payments",
        "post",
        "/api/v1/settlement/periods/{issued_period_id}/payments",
        "admin",
        404,
        {"company": "brand-co", "reference": "BANK-0001"},
    ),
    Endpoint(
        "settlement-dispute",
        "post",
        "/api/v1/settlement/lines/{line_id}/disputes",
        "write",
        201,
        {"reason": "We were owed 120 yen"},
    ),
    Endpoint("referral-offer-list", "get", "/api/v1/referrals/offers", "read", 200),
    Endpoint(
        "referral-offer-create",
        "post",
        "/api/v1/referrals/offers",
        "write",
        201,
        {
            "destination": "host-co",
            "title_ja": "春の新作",
            "title_en": "Spring collection",
            "landing_url": "https://brand-co.example/spring",
        },
        stranger=(403, "no_agreement"),
    ),
    Endpoint("referral-link-list", "get", "/api/v1/referrals/offers/{offer_id}/links", "read", 200),
    Endpoint(
        "referral-link-create",
        "post",
        "/api/v1/referrals/offers/{offer_id}/links",
        "write",
        201,
        {"campaign": "spring-flyers"},
    ),
    Endpoint(
        "referral-conversion",
        "post",
        "/api/v1/referrals/conversions",
        "write",
        201,
        {
            "kind": "lead",
            "member_number": "BC-7731",
            "order_id": "BC-REF-2",
            "code": "{host_code}",  # the body's lists are not filled in, its strings are
        },
        stranger=(404, "not_found"),  # neither its member nor its referral
    ),
    Endpoint(
        "referral-conversion-enrolled",
        "post",
        "/api/v1/referrals/conversions",
        "write",
        201,
        {"kind": "lead", "member_number": "BC-JOINED-2", "order_id": "BC-REF-3", "enrolled": True},
        stranger=(404, "not_found"),  # not its member
    ),
    Endpoint(
        "referral-refund",
        "post",
        "/api/v1/referrals/refunds",
        "write",
        200,
        {"order_id": "BC-REF-1"},
        stranger=(404, "not_found"),  # not its order
    ),
    Endpoint("referral-funnel", "get", "/api/v1/referrals/funnel", "read", 200),
    Endpoint(
        "overlap-visibility-set",
        "put",
        "/api/v1/overlap/visibility/{viewer_slug}",
        "admin",
        200,
        {"level": "counts"},
    ),
]


def federation_state() -> tuple[Any, ...]:
    return (
        sorted(Agreement.objects.values_list("pk", "status", "updated_at")),
        sorted(AgreementVersion.objects.values_list("pk", "status", "signed_at")),
        sorted(AgreementParty.objects.values_list("pk", "signed_at", "signed_by")),
        sorted(Enrollment.objects.values_list("pk", "status", "target_member_number")),
        sorted(EnrollmentBatch.objects.values_list("pk", "status", "enrolled")),
        sorted(OverlapVisibility.objects.values_list("owner_id", "viewer_id", "level")),
        OverlapQuery.objects.count(),
        sorted(CoinAccount.objects.values_list("pk", "balance", "version")),
        sorted(CoinHold.objects.values_list("pk", "state", "captured")),
        CoinTransaction.objects.count(),
        sorted(SettlementDispute.objects.values_list("pk", "state")),
        sorted(SettlementPeriod.objects.values_list("pk", "state")),
        SettlementAcknowledgement.objects.count(),
        ReferralOffer.objects.count(),
        ReferralLink.objects.count(),
        sorted(ReferralConversion.objects.values_list("pk", "state")),
        sorted(ReferralFee.objects.values_list("pk", "state")),
    )


def _agreement(host: Partner, partner: Partner) -> Agreement:
    """An agreement of the host and the partner (never the outsider): version 1 in force,
    version 2 awaiting both signatures. Each may enroll its members in the other's program,
    and the host may give the partner overlap counts."""

    def terms(min_cell: int) -> dict[str, Any]:
        return {
            "data_flows": [
                flow(host, partner, "cross_enrollment", "email"),
                flow(partner, host, "cross_enrollment", "email"),
                flow(host, partner, "overlap_matching", "kind"),
                flow(host, partner, "referral_tracking", "email"),
                flow(partner, host, "referral_tracking", "email"),
            ],
            "referral": {"fee_yen": "500", "attribution_days": 30},
            "overlap": {"min_cell": min_cell},
            "coin": {
                "exchange": True,
                "programs": {
                    host.slug: {"yen_per_coin": "1", "rate_to_shared": "1"},
                    partner.slug: {
                        "yen_per_coin": "1",
                        "rate_to_shared": "1",
                        "coins_per_100_yen": "5",
                    },
                },
                "actions": [{"party": partner.slug, "type": "video_watched", "coins": 3}],
            },
        }

    agreement = make_agreement(host, partner, terms=terms(50), title="Brand Co loyalty alliance")
    current = agreement.versions.get(number=1)
    second = services.version_draft(
        agreement=agreement,
        parties=[
            services.PartyInput(party.partner, party.contact_name, party.contact_email)
            for party in current.parties.select_related("partner")
        ],
        terms=terms(100),
        effective_from=current.effective_from,
        valid_until=current.valid_until,
        actor=Actor.system(),
    )
    services.version_propose(version=second, actor=Actor.system())
    return agreement


def _settlement_periods(host: Partner, partner: Partner) -> dict[str, str]:
    """January in review and February issued, each with one line: a fee the host owes the
    partner."""
    ids = {}
    for month, name in ((1, "period_id"), (2, "issued_period_id")):
        period = period_create(
            host=host,
            starts_on=date(2026, month, 1),
            ends_on=date(2026, month, 28),
            actor=Actor.system(),
        )
        fee = settlement_line_post(
            host=host,
            on=date(2026, month, 15),
            kind=SettlementLine.Kind.FEE,
            debtor=host,
            creditor=partner,
            amount_yen=Decimal(120),
            note="referral fee",
            actor=Actor.system(),
        )
        later = datetime(2026, month + 1, 1, tzinfo=UTC)
        period_review_open(period, actor=Actor.system(), now=later)
        ids[name] = str(period.pk)
        if month == 1:
            ids["line_id"] = str(fee.pk)
    issued = SettlementPeriod.objects.get(pk=ids["issued_period_id"])
    period_lock(issued, actor=Actor.system())
    period_issue(issued, actor=Actor.system())
    ids["statement_sha256"] = issued.statements.get(partner=partner).content_hash
    return ids


def _referrals(host: Partner, partner: Partner, world: World) -> dict[str, str]:
    """The partner's offer of the host's product (its links), and the host's offer of the
    partner's, whose campaign link the partner's member clicked and bought through (order
    BC-REF-1, to refund; a lead to report)."""
    grant_consent(world.member, host, "referral_tracking", channel="partner_app")
    texts = {"title_ja": "新作", "title_en": "New"}
    own = referral_offer_create(
        source=partner,
        destination=host,
        texts=texts,
        landing_url="https://host-co.example/new",
        actor=Actor.system(),
    )
    theirs = referral_offer_create(
        source=host,
        destination=partner,
        texts=texts,
        landing_url="https://brand-co.example/new",
        actor=Actor.system(),
    )
    link = referral_link_create(offer=theirs, campaign="host-flyers", actor=Actor.system())
    referral_click(token=link.token, address="192.0.2.1", user_agent="Mozilla/5.0")
    referral_conversion_report(
        destination=partner,
        member=world.member,
        kind="sale",
        order_id="BC-REF-1",
        amount_yen=Decimal(3000),
        occurred_at=datetime.now(tz=UTC),
        referral=Referral(tokens=(link.token,)),
        actor=Actor.system(),
    )
    _enrolled_referral(host, partner, theirs)
    return {
        "offer_id": str(own.pk),
        "host_token": link.token,
        "host_code": link.code,
        "their_offer": str(theirs.pk),
    }


def _enrolled_referral(host: Partner, partner: Partner, theirs: Any) -> None:
    """A host member who joined the partner's program (the partner's number BC-JOINED-2) and
    clicked the link the host gave them to the partner's offer: a lead to report by number."""
    joined = make_member(host, "HC-2")
    grant_consent(joined, partner, "cross_enrollment", "profile_sharing", "referral_tracking")
    enrollment = services.enrollment_request(
        member=joined, target=partner, fields=None, actor=Actor.system()
    )
    services.enrollment_confirm(
        enrollment=enrollment, target_member_number="BC-JOINED-2", actor=Actor.system()
    )
    grant_consent(make_member(partner, "BC-JOINED-2"), host, "referral_tracking")
    link = referral_link_create(offer=theirs, member=joined, actor=Actor.system())
    referral_click(token=link.token, address="192.0.2.2", user_agent="Mozilla/5.0")


@pytest.fixture
def world(
    host: Partner,
    partner: Partner,
    outsider: Partner,
    partner_key: Key,
    partner_read_key: Key,
    outsider_key: Key,
    settings: Any,
) -> World:
    """The partner's member may join the host's program (enrollment-create); a host member is
    in the partner's program, with a campaign queued; the host shows the partner counts."""
    world = base_world(host, partner, outsider, partner_key, partner_read_key, outsider_key)
    make_notice(
        purposes=[
            "cross_enrollment",
            "profile_sharing",
            "referral_tracking",
            "sampling_shipment",
            "research_survey",
        ],
        recipients=[partner, host],
        data_items=["name", "email", "postal_code", "address", "phone", "age_band", "kind"],
        effective_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    # Campaigns answer under a floor of 10 and exact counts, so ten members reach a segment.
    # Their agreement comes first: the brand's own coin program is the latest agreement's.
    settings.SANPO_OVERLAP_MIN_CELL_FLOOR, settings.SANPO_OVERLAP_NOISE_SCALE = 10, 0
    campaigns = campaign_world(host, partner)
    agreement = _agreement(host, partner)
    grant_consent(world.member, host, "cross_enrollment", "profile_sharing", channel="partner_app")
    host_member = make_member(host, "HC-1", name="主催 太郎")
    grant_consent(host_member, partner, "cross_enrollment", "profile_sharing")
    enrollment = services.enrollment_request(
        member=host_member, target=partner, fields=None, actor=Actor.system()
    )
    batch = services.enrollment_batch_start(
        source=host, target=partner, member_numbers=["HC-1"], fields=None, actor=Actor.system()
    )
    services.overlap_visibility_set(
        owner=host, viewer=partner, level="counts", actor=Actor.system()
    )
    # The partner's member earned coins with it (order BC-ORDER-1), to redeem and refund.
    coins_earn_for_purchase(
        company=partner,
        member=world.member,
        amount_yen=Decimal(4000),
        order_id="BC-ORDER-1",
        actor=Actor.system(),
    )
    spent = coins_redeem_at(
        company=partner, member=world.member, coins=10, reference="TILL-0", actor=Actor.system()
    )
    held = coins_hold_at(
        company=partner,
        member=world.member,
        coins=5,
        timeout=timedelta(hours=1),
        reference="CART-0",
        actor=Actor.system(),
    )
    holdout_for(kind=Holdout.Kind.REACTIVATION, key=reactivation_key(partner), company=partner)
    holdout_for(
        kind=Holdout.Kind.ACTION_RULE, key=action_key(partner, "video_watched"), company=partner
    )
    world.ids |= _settlement_periods(host, partner)
    referrals = _referrals(host, partner, world)
    world.ids |= {
        **referrals,
        "agreement_id": str(agreement.pk),
        "number": "2",
        "against": "1",
        "image_position": "1",
        "enrollment_id": str(enrollment.pk),
        "batch_id": str(batch.pk),
        "viewer_slug": host.slug,  # the partner's counterparty
        "hold_id": str(held.pk),
        "transaction_id": str(spent.pk),
        **{name: str(campaign.pk) for name, campaign in campaigns.items()},
    }
    world.secrets += [
        *referrals.values(),
        str(agreement.pk),
        agreement.title,
        "alliance@brand-co.example",
        str(enrollment.pk),
        str(batch.pk),
        pseudonym_for(host_member.pk, partner.pk),
        "主催 太郎",
        *(str(campaign.pk) for campaign in campaigns.values()),
        "Protein bar",
    ]
    world.states += [federation_state, campaigns_state]
    return world


def _each(world: World, endpoints: list[Endpoint], check: Callable[..., None]) -> None:
    """``check`` for every endpoint against one world (building it takes over a second, and
    the matrix has about ninety rows), each rolled back after it, so no row sees another's
    writes; a failure names its endpoint."""
    for endpoint in endpoints:
        try:
            with transaction.atomic():
                check(world, endpoint)
                transaction.set_rollback(True)
        except AssertionError as failure:
            raise AssertionError(f"{endpoint.name}: {failure}") from failure
        cache.clear()


def test_permission_matrix(world: World) -> None:
    _each(world, ENDPOINTS, check_every_caller)


def test_another_partners_object_is_indistinguishable_from_a_missing_one(world: World) -> None:
    _each(world, [e for e in ENDPOINTS if e.addresses_object], check_indistinguishable)


def test_the_matrix_covers_every_route_and_method() -> None:
    assert routes_of(federation_urls) == routes_covered(ENDPOINTS)
