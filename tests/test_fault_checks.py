"""tests.fault_checks: passes on consistent stores, and fails naming the verification that
found the damage."""

import pytest

from partners.models import IdempotencyKey, Partner
from partners.services import idempotency_claim
from tests.fault_checks import assert_stores_consistent


def test_consistent_stores_pass(partner: Partner) -> None:
    idempotency_claim(partner=partner, key="k-1", method="POST", path="/api/v1/x", body=b"{}")
    assert_stores_consistent()


def test_a_damaged_store_fails_naming_its_verification(partner: Partner) -> None:
    record = idempotency_claim(
        partner=partner, key="k-1", method="POST", path="/api/v1/x", body=b"{}"
    )
    IdempotencyKey.objects.filter(pk=record.pk).update(request_digest="")
    with pytest.raises(AssertionError, match=rf"^verify_idempotency_records: .*ids {record.pk}"):
        assert_stores_consistent()
