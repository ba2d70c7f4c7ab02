"""The worlds the federation tests share: an agreement signed by the host and the brand, the
cross-enrollment one (``agreement``, ``hanako``) and the overlap one (``alliance``), and the
members and consents they are built from. A test module may define its own ``agreement``."""

from typing import Any

import pytest

from consent.models import PrivacyNotice
from federation import services
from federation.models import Agreement
from partners import services as partner_services
from partners.actors import Actor
from partners.models import MemberAccount, Partner
from tests.factories import grant_consent, make_agreement, make_member, make_notice

SYSTEM = Actor.system()


HOOK_URL = "http://127.0.0.1:9/enrollments"  # loopback is allowed in tests; nothing listens
MEMBER_NAME = "佐藤 花子"
OVERLAP_MIN_CELL = 10


# --- Cross-enrollment ------------------------------------------------------------------------


def enrollment_member(owner: Partner, number: str, **values: Any) -> MemberAccount:
    """A member with every field a target could ask for."""
    defaults = {
        "name": MEMBER_NAME,
        "email": f"{number.lower()}@example.jp",
        "phone": "09011112222",
        "birth_date": "1985-03-04",
        "address": "東京都千代田区1-1",
    }
    return make_member(owner, number, **{**defaults, **values})


def enrollment_notice(brand: Partner) -> PrivacyNotice:
    """The notice in force, published first if there is none: name, e-mail, age band and
    prefecture for cross-enrollment and profile sharing with ``brand``."""
    existing = PrivacyNotice.objects.first()
    if existing is not None:
        return existing
    return make_notice(
        text="氏名、メールアドレス、年代を提携先に提供します。",
        purposes=["cross_enrollment", "profile_sharing"],
        recipients=[brand],
        data_items=["name", "email", "age_band", "prefecture"],
    )


def grant_enrollment_consents(member: MemberAccount, brand: Partner, *purposes: str) -> None:
    grant_consent(member, brand, *purposes, notice=enrollment_notice(brand))


@pytest.fixture
def agreement(host: Partner, partner: Partner) -> Agreement:
    """The host may give the brand its members for cross-enrollment: name, e-mail, age band
    (and the phone, which the notice does not name). Both listen for enrollment events."""
    for who in (host, partner):
        partner_services.webhook_endpoint_create(
            partner=who,
            url=HOOK_URL,
            events=[
                "enrollment.requested",
                "enrollment.confirmed",
                "enrollment.ended",
                "enrollment.batch_completed",
            ],
            actor=SYSTEM,
        )
    enrollment_notice(partner)
    flow = {
        "provider": host.slug,
        "recipient": partner.slug,
        "purpose": "cross_enrollment",
        # The phone is agreed, but no member consented to it under the notice.
        "fields": ["name", "email", "age_band", "phone"],
    }
    return make_agreement(host, partner, title="Host and Brand", terms={"data_flows": [flow]})


@pytest.fixture
def hanako(host: Partner, partner: Partner, agreement: Agreement) -> MemberAccount:
    member = enrollment_member(host, "K-1")
    grant_enrollment_consents(member, partner, "cross_enrollment", "profile_sharing")
    return member


# --- Overlap ---------------------------------------------------------------------------------


def overlap_member(owner: Partner, number: str, email: str, **values: Any) -> MemberAccount:
    return make_member(owner, number, name="会員", email=email, **values)


def grant_overlap_consent(member: MemberAccount, recipient: Partner) -> None:
    channel = "host_portal" if member.partner.kind == Partner.Kind.HOST else "partner_app"
    grant_consent(member, recipient, "overlap_matching", channel=channel)


def shared_people(
    host: Partner, partner: Partner, count: int, *, start: int = 0, **values: Any
) -> None:
    """``count`` people in both bases, spelt differently, all consenting on both sides."""
    for n in range(start, start + count):
        mine = overlap_member(host, f"H-{n}", f"person{n}@example.jp", **values)
        theirs = overlap_member(partner, f"B-{n}", f"PERSON{n}@EXAMPLE.JP", **values)
        grant_overlap_consent(mine, partner)
        grant_overlap_consent(theirs, host)


@pytest.fixture
def small_cell_floor(settings: Any) -> int:
    """An alliance whose floor is ``OVERLAP_MIN_CELL`` (10) rather than 50, so that the
    overlap tests count tens of members, not hundreds."""
    settings.SANPO_OVERLAP_MIN_CELL_FLOOR = OVERLAP_MIN_CELL
    return OVERLAP_MIN_CELL


@pytest.fixture
def alliance(host: Partner, partner: Partner, small_cell_floor: int) -> Agreement:
    """The brand may give the host overlap counts (cells of at least ``OVERLAP_MIN_CELL``, the
    floor of this alliance), and lets it see them."""
    make_notice(
        text="会員の重複を件数で確認します。",
        purposes=["overlap_matching"],
        recipients=[host, partner],
        data_items=["kind", "age_band"],
    )
    flow = {
        "provider": partner.slug,
        "recipient": host.slug,
        "purpose": "overlap_matching",
        "fields": ["kind", "age_band"],
    }
    agreement = make_agreement(
        host,
        partner,
        title="Host and Brand overlap",
        terms={"data_flows": [flow], "overlap": {"min_cell": OVERLAP_MIN_CELL}},
    )
    services.overlap_visibility_set(owner=partner, viewer=host, level="counts", actor=SYSTEM)
    return agreement


@pytest.fixture
def exact_overlap_counts(settings: Any) -> None:
    """Exact counts, to check the suppression rule to the member; the noise has tests of its
    own (test_overlap.py)."""
    settings.SANPO_OVERLAP_NOISE_SCALE = 0
