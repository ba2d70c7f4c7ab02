"""Provision records: written only when consent allows the provision at that moment, naming
the consent relied on and both sides of the exchange, and purged after their retention."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from consent.models import ConsentEvent, ProvisionRecord, Purpose
from consent.services import (
    consent_grant,
    consent_withdraw,
    provision_record,
    provision_records_purge,
)
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import MemberAccount, Partner
from partners.pii import member_id_from_pseudonym
from partners.services import member_create
from tests.factories import make_notice

pytestmark = pytest.mark.django_db


@pytest.fixture
def hanako(host: Partner, partner: Partner) -> MemberAccount:
    return _consented_member(host, partner)


def _consented_member(host: Partner, partner: Partner) -> MemberAccount:
    member = member_create(
        partner=host,
        values={"member_number": "K-5", "kind": "household", "name": "佐藤 花子"},
        actor=Actor.system(),
    )
    notice = make_notice(
        text="氏名とメールアドレスを提携先に提供します。",
        purposes=["cross_enrollment"],
        recipients=[partner],
        data_items=["name", "email"],
        effective_at=timezone.now() - timedelta(days=3),
    )
    consent_grant(
        member=member,
        purpose_code="cross_enrollment",
        recipient=partner,
        notice=notice,
        channel="host_portal",
        occurred_at=timezone.now() - timedelta(days=1),
        actor=Actor.system(),
    )
    return member


def _provide(member: MemberAccount, recipient: Partner, **extra: Any) -> ProvisionRecord:
    options: dict[str, Any] = {"purpose_code": "cross_enrollment", "data_items": ["name"]}
    options.update(extra)
    return provision_record(member=member, recipient=recipient, actor=Actor.system(), **options)


def test_a_consented_provision_is_recorded_with_both_sides_and_the_consent_relied_on(
    hanako: MemberAccount, host: Partner, partner: Partner, settings: Any
) -> None:
    record = _provide(hanako, partner, data_items=["email", "name", "name"])

    grant = ConsentEvent.objects.get(member=hanako, action="granted")
    assert (record.provider, record.recipient, record.consent_event) == (host, partner, grant)
    assert record.data_items == ["email", "name"]
    assert member_id_from_pseudonym(record.member_pseudonym, partner.pk) == hanako.pk
    assert host.name_latin in record.recipient_obtained_from
    expected = (record.provided_at + timedelta(days=settings.SANPO_PROVISION_RETENTION_DAYS)).date()
    assert record.retain_until == expected


@pytest.mark.parametrize(
    "change",
    [{"purpose_code": "co_marketing_contact"}, {"data_items": ["address"]}, {"data_items": []}],
    ids=["no consent for the purpose", "item not in the notice", "no items"],
)
def test_a_provision_beyond_the_consent_is_refused_and_not_recorded(
    hanako: MemberAccount, partner: Partner, change: dict[str, Any]
) -> None:
    with pytest.raises(ApplicationError):
        _provide(hanako, partner, **change)

    assert not ProvisionRecord.objects.exists()


def test_after_a_withdrawal_nothing_more_is_provided_and_earlier_records_stay(
    hanako: MemberAccount, partner: Partner, outsider: Partner
) -> None:
    _provide(hanako, partner)
    with pytest.raises(ApplicationError) as elsewhere:
        _provide(hanako, outsider)
    assert elsewhere.value.code == ErrorCode.PERMISSION_DENIED
    consent_withdraw(
        member=hanako,
        purpose_code="cross_enrollment",
        recipient=partner,
        channel="preference_page",
        occurred_at=timezone.now(),
        actor=Actor.system(),
    )

    with pytest.raises(ApplicationError) as refused:
        _provide(hanako, partner)

    assert "withdrawn" in refused.value.message
    assert ProvisionRecord.objects.count() == 1


def test_records_are_purged_only_after_their_retention(
    hanako: MemberAccount, partner: Partner
) -> None:
    kept = _provide(hanako, partner)
    expired = _provide(hanako, partner)
    ProvisionRecord.objects.filter(pk=expired.pk).update(
        retain_until=timezone.now().date() - timedelta(days=1)
    )

    assert provision_records_purge() == 1

    assert list(ProvisionRecord.objects.values_list("pk", flat=True)) == [kept.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_waits_for_a_provision_in_flight_and_never_slips_in_between(
    host: Partner, partner: Partner
) -> None:
    # A transactional test starts from empty tables: the purposes' seed migration is gone too.
    Purpose.objects.get_or_create(
        code="cross_enrollment", defaults={"name_ja": "相互入会", "name_en": "Cross enrollment"}
    )
    member = _consented_member(host, partner)
    provided = threading.Event()
    finish = threading.Event()
    results: dict[str, Any] = {}

    def provide() -> None:
        try:
            with transaction.atomic():
                results["record"] = _provide(member, partner)
                provided.set()
                assert finish.wait(timeout=20)
        except BaseException as exc:  # surfaced by the main thread
            results["provide_error"] = exc
        finally:
            connection.close()

    def withdraw() -> None:
        try:
            results["withdrawal"] = consent_withdraw(
                member=member,
                purpose_code="cross_enrollment",
                recipient=partner,
                channel="host_portal",
                occurred_at=timezone.now(),
                actor=Actor.system(),
            )
        except BaseException as exc:
            results["withdraw_error"] = exc
        finally:
            connection.close()

    first = threading.Thread(target=provide)
    first.start()
    try:
        assert provided.wait(timeout=20), "the provision never happened"
        second = threading.Thread(target=withdraw)
        second.start()
        second.join(timeout=0.5)
        assert second.is_alive(), "the withdrawal did not wait for the provision in flight"
    finally:
        finish.set()
        first.join(timeout=20)
    second.join(timeout=20)

    assert "provide_error" not in results, results.get("provide_error")
    assert "withdraw_error" not in results, results.get("withdraw_error")
    assert results["withdrawal"].recorded_at > results["record"].provided_at
    with pytest.raises(ApplicationError):  # and from now on, nothing more goes out
        _provide(member, partner)
