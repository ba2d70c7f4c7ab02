"""The coin tasks beat runs: each is registered under the name its schedule uses, and each
does its batch once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from config.celery import app
from federation.coins.models import CoinAccount
from federation.coins.selectors import balance_of
from federation.coins.services import Grant, coins_earn, hold_authorise
from federation.tasks import expire_coin_holds, expire_coins, release_pending_coins
from partners.actors import Actor
from partners.models import Person, WebhookDelivery, WebhookEndpoint
from tests.factories import make_partner

SYSTEM = Actor.system()
NAMES = [
    "federation.tasks.release_pending_coins",
    "federation.tasks.expire_coins",
    "federation.tasks.expire_coin_holds",
]


def test_beat_runs_each_coin_task_by_a_registered_name() -> None:
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    for name in NAMES:
        assert name in scheduled
        assert name in app.tasks


@pytest.mark.django_db
def test_each_task_does_its_batch_once(eager_celery: Any) -> None:
    issuer, shop = make_partner("coin-issuer"), make_partner("coin-shop")
    person = Person.objects.create()
    WebhookEndpoint.objects.create(
        partner=issuer, url="https://i.example/h", events=["coins.expired"]
    )
    WebhookEndpoint.objects.create(
        partner=shop, url="https://s.example/h", events=["coins.hold_expired"]
    )
    past = timezone.now() - timedelta(days=40)
    coins_earn(Grant(person, issuer, 50, Decimal(1)), actor=SYSTEM, now=past)
    hold_authorise(person, shop, 5, actor=SYSTEM, now=past)  # long expired, never captured
    coins_earn(Grant(person, issuer, 30, Decimal(1), pending_until=past + timedelta(days=10)),
               actor=SYSTEM, now=past)  # fmt: skip
    coins_earn(Grant(person, issuer, 20, Decimal(1), expires_at=timezone.now()), actor=SYSTEM)

    assert release_pending_coins.delay().get() == 1
    assert expire_coins.delay().get() == 20
    assert expire_coin_holds.delay().get() == 1
    assert (release_pending_coins(), expire_coins(), expire_coin_holds()) == (0, 0, 0)
    assert balance_of(person) == 80
    assert balance_of(person, CoinAccount.Kind.HOLD) == 0
    told = WebhookDelivery.objects.values_list("endpoint__partner__slug", "event_type")
    assert sorted(told) == [("coin-issuer", "coins.expired"), ("coin-shop", "coins.hold_expired")]
