"""A withdrawal reaches the partner that received the data, by webhook and in its list of
withdrawals, under the member's pseudonymous id for that partner; it is re-sent until the
partner acknowledges it, and shown as overdue past the deadline."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from consent.models import PrivacyNotice, WithdrawalNotice
from consent.services import (
    consent_grant,
    consent_withdraw,
    withdrawals_resend_unacknowledged,
)
from partners import services
from partners.actors import Actor
from partners.models import MemberAccount, Partner, WebhookDelivery
from partners.pii import member_id_from_pseudonym
from tests.conftest import Key, client_for
from tests.factories import make_notice

pytestmark = pytest.mark.django_db
HOOK_URL = "http://127.0.0.1:9/withdrawals"  # loopback is allowed in tests; nothing listens


@pytest.fixture
def withdrawal(host: Partner, partner: Partner) -> WithdrawalNotice:
    """Hanako, a host member, consented to the brand, then withdrew on the preference page."""
    services.webhook_endpoint_create(
        partner=partner, url=HOOK_URL, events=["consent.withdrawn"], actor=Actor.system()
    )
    hanako = services.member_create(
        partner=host,
        values={"member_number": "K-88", "kind": "household", "name": "佐藤 花子"},
        actor=Actor.system(),
    )
    notice: PrivacyNotice = make_notice(
        text="提携先に提供します。",
        purposes=["profile_sharing"],
        recipients=[partner],
        data_items=["name"],
        effective_at=timezone.now() - timedelta(days=10),
    )
    common: dict[str, Any] = {
        "member": hanako,
        "purpose_code": "profile_sharing",
        "recipient": partner,
        "actor": Actor.system(),
    }
    consent_grant(
        **common,
        notice=notice,
        channel="host_portal",
        occurred_at=timezone.now() - timedelta(days=2),
    )
    event = consent_withdraw(
        **common, channel="preference_page", occurred_at=timezone.now() - timedelta(minutes=1)
    )
    return WithdrawalNotice.objects.get(event=event)


def test_the_recipient_is_told_by_webhook_under_its_own_pseudonym(
    withdrawal: WithdrawalNotice, partner: Partner
) -> None:
    (delivery,) = WebhookDelivery.objects.filter(event_type="consent.withdrawn")
    data = delivery.payload["data"]

    assert delivery.endpoint.partner == partner
    assert data["withdrawal_id"] == str(withdrawal.event_id)
    assert data["purpose"] == "profile_sharing"
    member = MemberAccount.objects.get(member_number="K-88")
    assert member_id_from_pseudonym(data["member"], partner.pk) == member.pk
    assert "K-88" not in str(delivery.payload)  # the host's member number stays the host's


def test_the_recipient_lists_and_acknowledges_it_and_nobody_else_can(
    withdrawal: WithdrawalNotice, partner_key: Key, outsider_key: Key
) -> None:
    brand = client_for(partner_key)
    pending = brand.get("/api/v1/consent/withdrawals?pending=true").json()["results"]
    assert [(w["withdrawal_id"], w["overdue"]) for w in pending] == [
        (str(withdrawal.event_id), False)
    ]
    url = f"/api/v1/consent/withdrawals/{withdrawal.event_id}/acknowledge"

    assert client_for(outsider_key).get("/api/v1/consent/withdrawals").json()["results"] == []
    assert client_for(outsider_key).post(url).status_code == 404

    first = brand.post(url)
    again = brand.post(url, HTTP_IDEMPOTENCY_KEY="ack-again")

    assert first.status_code == again.status_code == 200
    assert first.json()["acknowledged_at"] is not None
    assert again.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    assert brand.get("/api/v1/consent/withdrawals?pending=true").json()["results"] == []


def test_unacknowledged_withdrawals_are_sent_again_and_become_overdue(
    withdrawal: WithdrawalNotice, partner_key: Key, settings: Any
) -> None:
    assert withdrawals_resend_unacknowledged() == 0  # just sent
    past = timezone.now() - timedelta(hours=settings.SANPO_WITHDRAWAL_ACK_HOURS + 1)
    WithdrawalNotice.objects.filter(pk=withdrawal.pk).update(created_at=past, last_sent_at=past)

    assert withdrawals_resend_unacknowledged() == 1

    withdrawal.refresh_from_db()
    assert withdrawal.times_sent == 2
    assert WebhookDelivery.objects.filter(event_type="consent.withdrawn").count() == 2
    listed = client_for(partner_key).get("/api/v1/consent/withdrawals").json()["results"]
    assert listed[0]["overdue"] is True

    client_for(partner_key).post(f"/api/v1/consent/withdrawals/{withdrawal.event_id}/acknowledge")
    WithdrawalNotice.objects.filter(pk=withdrawal.pk).update(last_sent_at=past)
    assert withdrawals_resend_unacknowledged() == 0  # acknowledged: never sent again
