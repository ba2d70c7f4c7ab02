"""The coin ledger in the alliance console: read-only pages for managers alone, and an
overview that says whether the ledger verifies and charts coins per company per month."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from federation.coins.models import CoinAccount, CoinHold, CoinLot, CoinTransaction
from federation.coins.services import (
    Grant,
    coins_earn,
    coins_redeem,
    coins_refund,
    hold_authorise,
    member_account,
)
from partners.actors import Actor
from partners.models import Partner, Person

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
BASE = "/admin/federation/"
OVERVIEW = f"{BASE}coinaccount/overview/"


@pytest.fixture
def ledger(host: Partner, partner: Partner) -> Person:
    person = Person.objects.create()
    earned = coins_earn(
        Grant(person, host, 120, Decimal("1.5"), reason={"order_id": "A-1"}), actor=SYSTEM
    )
    coins_redeem(person, partner, 30, actor=SYSTEM)
    hold_authorise(person, partner, 10, actor=SYSTEM)
    coins_refund(earned, 100, actor=SYSTEM)
    return person


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_every_coin_page_answers_a_manager_and_nobody_else(
    ledger: Person, alliance_manager: User, compliance_reviewer: User, partner_admin: User
) -> None:
    pages = [OVERVIEW] + [
        f"{BASE}{model}/"
        for model in ("coinaccount", "cointransaction", "coinlot", "coinhold", "coinclawback")
    ]
    pages += [
        f"{BASE}cointransaction/{CoinTransaction.objects.filter(kind='redeem').get().pk}/change/",
        f"{BASE}coinlot/{CoinLot.objects.get().pk}/change/",
        f"{BASE}coinhold/{CoinHold.objects.get().pk}/change/",
    ]
    manager = _client(alliance_manager)
    for page in pages:
        assert manager.get(page).status_code == 200, page
    for other in (compliance_reviewer, partner_admin):
        for page in pages:
            assert _client(other).get(page).status_code in (302, 403), (other, page)


def test_nothing_in_the_console_writes_to_the_ledger(
    ledger: Person, alliance_manager: User
) -> None:
    manager = _client(alliance_manager)
    entry_page = f"{BASE}cointransaction/{CoinTransaction.objects.first().pk}/change/"  # type: ignore[union-attr]
    assert manager.post(entry_page, {}).status_code == 403
    assert manager.get(f"{BASE}coinaccount/add/").status_code == 403
    content = manager.get(entry_page).content.decode()
    assert 'name="_save"' not in content


def test_the_overview_says_the_ledger_verifies_and_charts_each_company(
    ledger: Person, alliance_manager: User, host: Partner, partner: Partner
) -> None:
    content = _client(alliance_manager).get(OVERVIEW).content.decode()
    assert "The ledger verifies" in content
    assert content.count("class='sanpo-chart-svg'") == 3  # issued, redeemed, expired
    assert "Nothing to show" in content  # nothing expired yet
    # The figures under the charts: 120 issued by the host, 30 redeemed at the partner.
    assert "120" in content
    assert "30" in content


def test_the_overview_names_the_first_mismatch(ledger: Person, alliance_manager: User) -> None:
    wallet = member_account(ledger)
    CoinAccount.objects.filter(pk=wallet.pk).update(balance=wallet.balance + 1)
    content = _client(alliance_manager).get(OVERVIEW).content.decode()
    assert "The ledger does not verify" in content
    assert str(wallet.pk) in content


def test_a_manager_lists_a_companys_members_whose_coins_expire_soon(
    ledger: Person, alliance_manager: User, host: Partner
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import make_member

    member = make_member(host, "K-77")
    member.person = ledger
    member.save()
    soon = timezone.now() + timedelta(days=5)
    coins_earn(Grant(ledger, host, 20, Decimal(1), expires_at=soon), actor=SYSTEM)
    page = _client(alliance_manager).get(f"{BASE}coinaccount/expiring/?company={host.slug}&days=7")
    assert page.status_code == 200
    rows = page.context["rows"]
    assert [(row.member_number, row.expiring) for row in rows] == [("K-77", 20)]
    later = _client(alliance_manager).get(f"{BASE}coinaccount/expiring/?company={host.slug}")
    assert "K-77" in later.content.decode()  # 30 days by default
