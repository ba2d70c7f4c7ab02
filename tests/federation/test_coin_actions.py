"""Coins for actions between purchases: the catalogue in the agreement terms, its caps per
day and month and "once per content" (also when two reports race), the reactivation bonus for
a dormant member, and the endpoint's bad input."""

from __future__ import annotations

import importlib
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from federation.agreements.terms import TermsError, terms_clean
from federation.coins.models import (
    CoinAccount,
    CoinActionGrant,
    CoinActivity,
    CoinReactivation,
    CoinTransaction,
)
from federation.coins.selectors import balance_of, ledger_verify
from federation.coins.services import coins_earn_for_action, coins_earn_for_purchase
from federation.models import Agreement
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import MemberAccount, Partner, Person
from partners.pii import pseudonym_for
from tests.conftest import Key, client_for
from tests.factories import coin_terms, grant_consent, make_agreement, make_member, make_notice

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


def _catalogue(host: Partner, partner: Partner) -> list[dict[str, Any]]:
    return [
        {"party": host.slug, "type": "video_watched", "coins": 5, "per_day": 2, "per_month": 3},
        {"party": host.slug, "type": "review_written", "coins": 20, "once_per_content": True},
        {"party": partner.slug, "type": "event_attended", "coins": 30},
    ]


@pytest.fixture
def agreed(host: Partner, partner: Partner) -> Agreement:
    make_notice(purposes=["coin_exchange"], recipients=[partner], data_items=["name"])
    terms = coin_terms(
        host,
        partner,
        actions=_catalogue(host, partner),
        coins_per_100_yen="1",
        reactivation_days=90,
        reactivation_bonus=100,
    )
    return make_agreement(host, partner, terms=terms)


@pytest.fixture
def hanako(host: Partner, partner: Partner, agreed: Agreement) -> MemberAccount:
    member = make_member(host, "K-1")
    grant_consent(member, partner, "coin_exchange")
    return member


def _act(company: Partner, member: MemberAccount, action: str, content: str = "", **kw: Any) -> Any:
    return coins_earn_for_action(
        company=company,
        member=member,
        action_type=action,
        content_id=content,
        actor=SYSTEM,
        **kw,
    )


def _refused(code: str, company: Partner, member: MemberAccount, action: str, **kw: Any) -> Any:
    with pytest.raises(ApplicationError) as refused:
        _act(company, member, action, **kw)
    assert refused.value.code == code
    return refused.value


def _person(member: MemberAccount) -> Person:
    member.refresh_from_db()
    assert member.person is not None
    return member.person


def _wallet(member: MemberAccount) -> int:
    member.refresh_from_db()
    return balance_of(Person(pk=member.person_id), CoinAccount.Kind.WALLET)


def test_an_action_earns_what_the_catalogue_grants_with_its_reason(
    host: Partner, hanako: MemberAccount
) -> None:
    outcome = _act(host, hanako, "video_watched", "VID-1")
    assert outcome.grant.coins == 5
    assert outcome.reactivation is None
    posted = CoinTransaction.objects.get(pk=outcome.grant.transaction_id)
    assert posted.kind == "earn_action"
    assert posted.reason["action_type"] == "video_watched"
    assert posted.reason["content_id"] == "VID-1"
    assert _wallet(hanako) == 5  # action coins are spendable at once: no return window
    assert ledger_verify() is None


def test_the_daily_and_monthly_caps_hold(host: Partner, hanako: MemberAccount) -> None:
    day_one = timezone.now() - timedelta(days=2)
    _act(host, hanako, "video_watched", "V1", occurred_at=day_one)
    _act(host, hanako, "video_watched", "V2", occurred_at=day_one)
    refused = _refused("action_cap_reached", host, hanako, "video_watched", occurred_at=day_one)
    assert refused.extra == {"action_type": "video_watched", "cap": "per_day", "limit": 2}
    _act(host, hanako, "video_watched", "V3")  # another day: the third of the month
    refused = _refused("action_cap_reached", host, hanako, "video_watched")
    assert refused.extra["cap"] in {"per_month", "per_day"}
    assert CoinActionGrant.objects.count() == 3
    assert _wallet(hanako) == 15  # the refusals wrote nothing


def test_an_action_granted_once_per_content_earns_once_for_it(
    host: Partner, hanako: MemberAccount
) -> None:
    _act(host, hanako, "review_written", content="SKU-9")
    _refused("action_already_rewarded", host, hanako, "review_written", content="SKU-9")
    _act(host, hanako, "review_written", content="SKU-10")
    assert _wallet(hanako) == 40


def test_an_action_outside_the_companys_catalogue_is_refused(
    host: Partner, partner: Partner, hanako: MemberAccount
) -> None:
    _refused("unknown_action", host, hanako, "event_attended")  # the partner's, not the host's
    _refused("unknown_action", host, hanako, "podcast_heard")
    outcome = _act(partner, hanako, "event_attended", "EV-1")  # under the agreement, consented
    assert outcome.grant.coins == 30
    assert outcome.grant.company == partner
    assert not CoinActionGrant.objects.filter(company=host).exists()


def test_a_dormant_member_who_acts_gets_the_bonus_and_the_reactivation_is_recorded(
    host: Partner, hanako: MemberAccount
) -> None:
    coins_earn_for_purchase(
        company=host, member=hanako, amount_yen=Decimal(1000), order_id="A-1", actor=SYSTEM
    )
    hanako.refresh_from_db()
    long_ago = timezone.now() - timedelta(days=120)
    CoinActivity.objects.filter(person=_person(hanako)).update(last_active_at=long_ago)
    outcome = _act(host, hanako, "video_watched", "V1")
    back = outcome.reactivation
    assert back is not None
    assert back.bonus == 100
    assert back.dormant_days == 120
    assert back.member == hanako
    assert back.grant == outcome.grant
    assert CoinTransaction.objects.get(pk=back.bonus_transaction_id).kind == "bonus"
    assert _wallet(hanako) == 10 + 5 + 100  # the purchase, the action, the bonus
    # Active again: the next action earns no bonus.
    assert _act(host, hanako, "video_watched", "V2").reactivation is None
    assert CoinReactivation.objects.count() == 1


def test_a_first_activity_is_no_reactivation(host: Partner, hanako: MemberAccount) -> None:
    assert _act(host, hanako, "video_watched").reactivation is None
    hanako.refresh_from_db()
    assert CoinActivity.objects.filter(person=_person(hanako), company=host).exists()


def test_terms_refuse_a_bad_action_catalogue() -> None:
    def refusals(actions: Any) -> dict[str, list[str]]:
        program = {"yen_per_coin": "1", "rate_to_shared": "1"}
        document = {
            "data_flows": [],
            "coin": {"exchange": False, "programs": {"host": program}, "actions": actions},
        }
        with pytest.raises(TermsError) as refused:
            terms_clean(document, parties=["host", "brand"], purposes=[])
        return refused.value.errors

    ok = {"party": "host", "type": "video_watched", "coins": 5}
    assert "coin.actions" in refusals("video")
    assert "coin.actions[0].party" in refusals([{**ok, "party": "brand"}])  # no program
    assert "coin.actions[0].type" in refusals([{**ok, "type": "Video Watched"}])
    assert "coin.actions[0].coins" in refusals([{**ok, "coins": 0}])
    assert "coin.actions[0].coins" in refusals([{**ok, "coins": 1.5}])
    assert "coin.actions[0].per_day" in refusals([{**ok, "per_day": 5, "per_month": 2}])
    assert "coin.actions[0].once_per_content" in refusals([{**ok, "once_per_content": "yes"}])
    assert "coin.actions[1].type" in refusals([ok, ok])


def _post(key: Key, body: Any, idempotency: str | None = None) -> Any:
    return client_for(key).post(
        "/api/v1/coins/actions",
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency or str(uuid.uuid4()),
    )


def test_the_endpoint_earns_for_an_action_of_another_companys_member(
    partner: Partner, partner_key: Key, hanako: MemberAccount
) -> None:
    member = pseudonym_for(hanako.pk, partner.pk)
    body = {"member": member, "action_type": "event_attended", "content_id": "EV-1"}
    answer = _post(partner_key, body)
    assert answer.status_code == 201, answer.json()
    assert answer.json()["coins"] == 30
    assert answer.json()["reactivation"] is None
    assert answer.json()["balances"]["available"] == 30


@pytest.mark.parametrize(
    "change",
    [
        {"action_type": "Video Watched"},
        {"action_type": ""},
        {"action_type": "x" * 41},
        {"content_id": "c" * 101},
        {"occurred_at": "yesterday"},
        {"occurred_at": "2099-01-01T00:00:00+09:00"},
        {"occurred_at": "2001-01-01T00:00:00+09:00"},
        {"coins": 5},
    ],
)
def test_bad_action_reports_are_refused_and_nothing_is_written(
    host_key: Key, hanako: MemberAccount, change: dict[str, Any]
) -> None:
    body = {"member_number": "K-1", "action_type": "video_watched", **change}
    answer = _post(host_key, body)
    assert answer.status_code == 400, answer.json()
    assert answer.json()["error"]["code"] == "validation_failed"
    assert not CoinTransaction.objects.exists()


def test_refusals_answer_with_their_codes(host_key: Key, hanako: MemberAccount) -> None:
    unknown = _post(host_key, {"member_number": "K-1", "action_type": "podcast_heard"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_action")
    body = {"member_number": "K-1", "action_type": "review_written", "content_id": "SKU-1"}
    assert _post(host_key, body).status_code == 201
    again = _post(host_key, body)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "action_already_rewarded")
    stranger = _post(host_key, {"member_number": "NOPE", "action_type": "video_watched"})
    assert stranger.status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reports_of_the_same_action_racing_give_one_grant() -> None:
    from django.apps import apps

    from tests.factories import issue_key, make_partner

    importlib.import_module("consent.migrations.0002_seed_purposes").seed(apps, None)
    host = make_partner("host-co", kind=Partner.Kind.HOST)
    partner = make_partner("brand-co")
    terms = coin_terms(host, partner, actions=_catalogue(host, partner))
    make_agreement(host, partner, terms=terms)
    make_member(host, "K-1")
    key = Key(host, issue_key(host).plaintext)
    start = threading.Barrier(8)

    def send(n: int) -> int:
        body = {"member_number": "K-1", "action_type": "review_written", "content_id": "SKU-1"}
        if n % 2:  # and the daily cap of two videos, raced by four reports
            body = {"member_number": "K-1", "action_type": "video_watched", "content_id": f"V{n}"}
        try:
            start.wait(timeout=30)
            return int(_post(key, body).status_code)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, range(8)))
    assert sorted(statuses) == [201, 201, 201, 409, 409, 409, 409, 409]
    grants = CoinActionGrant.objects
    assert grants.filter(action_type="review_written").count() == 1
    assert grants.filter(action_type="video_watched").count() == 2
    assert ledger_verify() is None


def test_a_manager_adds_an_action_through_the_console_and_the_diff_says_so(
    alliance_manager: Any, host: Partner, partner: Partner, agreed: Agreement
) -> None:
    from django.test import Client

    from tests.federation.test_agreements_admin import _as_posted, _url

    client = Client()
    client.force_login(alliance_manager)
    new = _url(agreed, "versions", "new")
    page = client.get(new)
    assert "terms-list-actions" in page.content.decode()
    posted = _as_posted(page)
    assert posted["coin-actions-0-type"] == "event_attended"  # sorted by party, then type
    free = int(posted["coin-actions-TOTAL_FORMS"]) - 1  # the blank row
    posted.update(
        {
            f"coin-actions-{free}-party": host.slug,
            f"coin-actions-{free}-type": "survey_answered",
            f"coin-actions-{free}-coins": "15",
            f"coin-actions-{free}-per_month": "4",
            "summary": "Coins for surveys.",
        }
    )
    answer = client.post(new, posted)
    assert answer.status_code == 302, answer.context and answer.context["terms"].sections
    amended = agreed.versions.get(number=2)
    assert {"party": host.slug, "type": "survey_answered", "coins": 15, "per_month": 4,
            "once_per_content": False} in amended.terms["coin"]["actions"]  # fmt: skip
    assert len(amended.terms["coin"]["actions"]) == 4
    diff = client.get(_url(agreed, "diff"), {"old": 1, "new": 2})
    texts = [change.text for change in diff.context["rows"]]
    assert f"Coins per action of {host.slug} survey_answered set to 15." in texts


def test_a_bad_action_row_is_shown_next_to_its_input(
    alliance_manager: Any, host: Partner, partner: Partner, agreed: Agreement
) -> None:
    from django.test import Client

    from tests.federation.test_agreements_admin import _as_posted, _url

    client = Client()
    client.force_login(alliance_manager)
    new = _url(agreed, "versions", "new")
    posted = _as_posted(client.get(new))
    posted["coin-actions-0-per_day"] = "50"  # more than... no monthly cap: allowed
    posted["coin-actions-1-type"] = "Bad Type"
    answer = client.post(new, posted)
    assert answer.status_code == 200
    content = answer.content.decode()
    assert "An action type: lowercase letters" in content
    assert agreed.versions.count() == 1


def test_managers_see_grants_and_reactivations_read_only_with_csv(
    alliance_manager: Any, partner_admin: Any, host: Partner, hanako: MemberAccount
) -> None:
    from django.test import Client

    _act(host, hanako, "video_watched", "VID-1")
    hanako.refresh_from_db()
    CoinActivity.objects.filter(person=_person(hanako)).update(
        last_active_at=timezone.now() - timedelta(days=200)
    )
    _act(host, hanako, "review_written", "SKU-1")
    manager, other = Client(), Client()
    manager.force_login(alliance_manager)
    other.force_login(partner_admin)
    for model in ("coinactiongrant", "coinreactivation"):
        listing = manager.get(f"/admin/federation/{model}/", {"q": "K-1"})
        assert listing.status_code == 200
        assert listing.context["cl"].result_count == (2 if model == "coinactiongrant" else 1)
        exported = manager.get(f"/admin/federation/{model}/export-csv/")
        assert exported.status_code == 200
        rows = b"".join(exported.streaming_content).decode().splitlines()  # type: ignore[attr-defined]
        assert len(rows) == (3 if model == "coinactiongrant" else 2)
        assert "K-1" in rows[1]
        assert manager.get(f"/admin/federation/{model}/add/").status_code == 403
        assert other.get(f"/admin/federation/{model}/").status_code in (302, 403)
    filtered = manager.get("/admin/federation/coinactiongrant/", {"action_type": "review_written"})
    assert filtered.context["cl"].result_count == 1
