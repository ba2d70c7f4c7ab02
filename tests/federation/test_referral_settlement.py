"""Locked referral fees flow into settlement: each becomes a fee line of the destination
owing the source in the period its lock falls in, on both companies' statements, once; a
clawback goes the other way; without an open period the fee waits, locked."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from federation.referrals.models import ReferralFee
from federation.referrals.services import referral_conversion_refund, referral_fees_post_due
from federation.referrals.tasks import lock_referral_fees
from federation.settlement.models import SettlementLine, SettlementPeriod
from federation.settlement.services import period_compute, period_create
from partners.actors import Actor
from partners.models import Partner
from tests.federation.referral_world import (
    campaign_link,
    click,
    consenting_member,
    host_offer,
    referral_agreement,
    report,
)

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


def _sale(host: Partner, partner: Partner, order: str) -> None:
    link = campaign_link(host_offer(host, partner), campaign=f"flyers-{order}")
    click(link)
    report(partner, consenting_member(partner, f"B-{order}", host), order, link.token)


def _this_month(host: Partner) -> SettlementPeriod:
    today = timezone.localdate()
    first = today.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return period_create(host=host, starts_on=first, ends_on=last, actor=SYSTEM)


def test_a_locked_fee_becomes_a_line_on_both_statements_once(
    host: Partner, partner: Partner
) -> None:
    referral_agreement(host, partner, review_days=0)
    period = _this_month(host)
    _sale(host, partner, "O-1")

    assert lock_referral_fees() == 1
    line = SettlementLine.objects.get(kind="fee")
    assert (line.debtor, line.creditor, line.amount_yen) == (partner, host, Decimal(500))
    assert line.period == period
    fee = ReferralFee.objects.get()
    assert (fee.state, fee.settlement_reference) == ("settled", str(line.pk))
    assert referral_fees_post_due() == 0  # posted once
    assert SettlementLine.objects.filter(kind="fee").count() == 1

    period_compute(period, actor=SYSTEM)
    for company, net in ((host, Decimal(500)), (partner, Decimal(-500))):
        statement = period.statements.get(partner=company)
        assert statement.net_yen == net
        lines = json.loads(statement.document)["lines"]
        assert [line["kind"] for line in lines] == ["fee"]
        assert "referral fee" in statement.document


def test_without_an_open_period_the_fee_waits_locked_and_posts_later(
    host: Partner, partner: Partner
) -> None:
    referral_agreement(host, partner, review_days=0)
    _sale(host, partner, "O-1")
    assert lock_referral_fees() == 1
    assert ReferralFee.objects.get().state == "locked"
    assert not SettlementLine.objects.exists()

    _this_month(host)
    assert referral_fees_post_due() == 1
    assert ReferralFee.objects.get().state == "settled"


def test_a_refund_after_settlement_posts_a_clawback_the_other_way(
    host: Partner, partner: Partner
) -> None:
    referral_agreement(host, partner, review_days=0)
    _this_month(host)
    _sale(host, partner, "O-1")
    lock_referral_fees()
    referral_conversion_refund(conversion=ReferralFee.objects.get().conversion, actor=SYSTEM)
    lock_referral_fees()
    lines = {(line.debtor, line.creditor, line.amount_yen) for line in SettlementLine.objects.all()}
    assert lines == {(partner, host, Decimal(500)), (host, partner, Decimal(500))}
