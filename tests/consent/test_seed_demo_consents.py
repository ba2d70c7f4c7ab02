"""The demo alliance's consent record: loaded on top of seed_demo, whole, and loaded once."""

import io

import pytest
from django.core.management import call_command

from consent.models import ChainVerification, ConsentEvent, DataSubjectRequest, ProvisionRecord
from consent.selectors import consent_check

pytestmark = pytest.mark.django_db


def test_the_demo_consents_load_once_with_an_intact_record() -> None:
    call_command("seed_demo", members=200, stdout=io.StringIO())
    out = io.StringIO()

    call_command("seed_demo_consents", stdout=out)
    events = ConsentEvent.objects.count()
    call_command("seed_demo_consents", stdout=io.StringIO())

    assert "Demo consents ready" in out.getvalue()
    assert events > 0
    assert ConsentEvent.objects.count() == events  # the second run changed nothing
    assert ConsentEvent.objects.filter(action="withdrawn").exists()
    assert ProvisionRecord.objects.exists()
    assert DataSubjectRequest.objects.count() == 1
    (run,) = ChainVerification.objects.all()
    assert run.breaks == []
    assert run.chains_checked == ConsentEvent.objects.values("member").distinct().count()
    granted = ConsentEvent.objects.filter(action="granted").select_related("recipient").first()
    assert granted is not None
    assert consent_check(
        member_id=granted.member_id, purpose_code=granted.purpose_id, recipient=granted.recipient
    ).reason in {"consented", "withdrawn", "expired"}
