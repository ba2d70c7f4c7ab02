"""The demo alliance's consent record: loaded on top of seed_demo, whole, and loaded once, also
on a database the older command (notice version 1 only) seeded."""

import io
import uuid

import pytest
from django.core.management import call_command

from consent.management.commands import seed_demo_consents as seed
from consent.models import (
    ChainVerification,
    ConsentEvent,
    ConsentState,
    DataSubjectRequest,
    PrivacyNotice,
    ProvisionRecord,
    Purpose,
)
from consent.selectors import consent_check
from partners.models import MemberAccount, Partner

pytestmark = pytest.mark.django_db


def _load() -> str:
    out = io.StringIO()
    call_command("seed_demo_consents", stdout=out)
    return out.getvalue()


def test_the_demo_consents_load_once_with_an_intact_record() -> None:
    call_command("seed_demo", members=200, stdout=io.StringIO())

    output = _load()
    events = ConsentEvent.objects.count()
    again = _load()

    assert "Demo consents ready" in output
    assert "Alliance consents ready" in output
    assert "already loaded" in again
    assert events > 0
    assert ConsentEvent.objects.count() == events  # the second run changed nothing
    assert ConsentEvent.objects.filter(action="withdrawn").exists()
    assert ProvisionRecord.objects.exists()
    assert DataSubjectRequest.objects.count() == 1
    run = ChainVerification.objects.latest("started_at")
    assert run.breaks == []
    assert run.chains_checked == ConsentEvent.objects.values("member").distinct().count()


def test_the_notice_in_force_covers_every_purpose_and_company_and_members_consent_to_each() -> None:
    call_command("seed_demo", members=200, stdout=io.StringIO())
    _load()

    in_force = PrivacyNotice.objects.order_by("-version").first()
    assert in_force is not None
    assert in_force.version == 2
    catalogue = set(Purpose.objects.filter(active=True).values_list("code", flat=True))
    assert set(in_force.conditions["purposes"]) == catalogue
    assert set(in_force.conditions["recipients"]) == set(
        Partner.objects.values_list("slug", flat=True)
    )
    consented = ConsentState.objects.filter(notice__version=2, granted=True)
    assert set(consented.values_list("purpose_id", flat=True)) == catalogue
    withdrawn = ConsentState.objects.filter(granted=False, purpose_id="research_survey")
    assert withdrawn.exists()

    # Overlap matching is consented on both sides: by host members, and by brand members.
    overlap = consented.filter(purpose_id="overlap_matching").select_related("member__partner")
    assert {state.member.partner.slug for state in overlap} == {
        "kirari",
        "midori-fitness",
        "tsubame-travel",
    }
    example = consented.filter(purpose_id="cross_enrollment").select_related("recipient").first()
    assert example is not None
    assert consent_check(
        member_id=example.member_id, purpose_code="cross_enrollment", recipient=example.recipient
    ).allowed


def test_a_database_the_older_command_seeded_gains_the_notice_in_force() -> None:
    call_command("seed_demo", members=200, stdout=io.StringIO())
    # What the older command did: version 1 with its grants, and nothing more.
    host, brands = seed._demo_partners()
    notices = seed._publish_notices(brands)
    seed._record_consents(seed._consenting_members(host, share=0.25), brands, notices)
    history = ConsentEvent.objects.count()
    under_v1 = ConsentEvent.objects.filter(notice__version=1).count()

    _load()
    after = ConsentEvent.objects.count()
    _load()

    assert PrivacyNotice.objects.filter(version=1).count() == 2  # not published again
    assert PrivacyNotice.objects.filter(version=2).count() == 2
    assert ConsentEvent.objects.filter(notice__version=1).count() == under_v1
    assert after > history
    assert ConsentEvent.objects.count() == after
    assert MemberAccount.objects.filter(consent_events__notice__version=2).exists()


def test_a_member_in_several_plans_gets_every_consent_of_each() -> None:
    """A host member shared with two brands is in two overlap plans: both are kept."""
    call_command("seed_demo", members=0, stdout=io.StringIO())
    host = Partner.objects.get(slug="kirari")
    midori, tsubame = (
        Partner.objects.get(slug="midori-fitness"),
        Partner.objects.get(slug="tsubame-travel"),
    )
    member = MemberAccount(pk=uuid.UUID(int=1), partner=host, member_number="K1")
    other = MemberAccount(pk=uuid.UUID(int=2), partner=host, member_number="K2")

    merged = seed._by_member(
        [
            (member, [("overlap_matching", midori)], []),
            (other, [("overlap_matching", midori)], []),
            (member, [("overlap_matching", tsubame), ("overlap_matching", midori)], []),
        ]
    )

    assert [(m.member_number, grants) for m, grants, _ in merged] == [
        ("K1", [("overlap_matching", midori), ("overlap_matching", tsubame)]),
        ("K2", [("overlap_matching", midori)]),
    ]
