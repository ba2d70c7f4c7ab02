"""`manage.py seed_demo` loads the fictional demo alliance and converges when run again."""

from io import StringIO
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command

from partners.management.commands.seed_demo import DEMO_KEY_NAME, DEMO_PASSWORD
from partners.models import (
    ApiKey,
    ApiScope,
    MemberAccount,
    MemberImport,
    Partner,
    PartnerContact,
    Person,
    StaffRole,
)
from partners.services import api_key_authenticate


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", members=200, stdout=out)
    return out.getvalue()


def _shown_keys(output: str) -> list[str]:
    return [word for word in output.split() if word.startswith("sanpo_")]


def test_seed_demo_runs_twice_and_converges(db: Any) -> None:
    first = _seed()
    second = _seed()

    partners = Partner.objects.all()
    assert partners.count() == 4
    assert partners.filter(kind=Partner.Kind.HOST).count() == 1
    brands = partners.filter(kind=Partner.Kind.BRAND)
    assert brands.count() == 3
    assert brands.filter(holds_customer_data=False).count() == 1
    assert all(p.status == Partner.Status.ACTIVE for p in partners)
    assert all(p.group.name == f"partner:{p.slug}" for p in partners)
    assert PartnerContact.objects.count() == 4  # one each, not one per run

    for partner in partners:
        demo_keys = ApiKey.objects.filter(partner=partner, name=DEMO_KEY_NAME)
        assert demo_keys.count() == 2  # one per run
        (live,) = demo_keys.filter(revoked_at__isnull=True)
        assert sorted(live.scopes) == sorted([ApiScope.READ, ApiScope.WRITE, ApiScope.ADMIN])

    # The keys printed by the second run are the live ones; the first run's are revoked.
    second_keys = _shown_keys(second)
    assert len(second_keys) == 4
    assert {api_key_authenticate(k).partner.slug for k in second_keys} == {p.slug for p in partners}
    first_keys = _shown_keys(first)
    assert len(first_keys) == 4
    assert not set(first_keys) & set(second_keys)
    for key in first_keys:
        assert ApiKey.objects.get(lookup=key.split("_")[1]).revoked_at is not None

    roles = StaffRole.objects.all()
    assert roles.count() == 2 + 4 * 2
    assert {r.role for r in roles} == set(StaffRole.Role.values)
    assert roles.filter(role=StaffRole.Role.ALLIANCE_MANAGER).count() == 1
    assert roles.filter(role=StaffRole.Role.COMPLIANCE_REVIEWER).count() == 1
    for partner in partners:
        assert {r.role for r in roles.filter(partner=partner)} == StaffRole.PARTNER_ROLES
    assert get_user_model().objects.count() == 10


def test_seeded_users_log_in_with_the_demo_password_and_only_the_manager_is_staff(
    db: Any,
) -> None:
    _seed()
    users = get_user_model().objects.all()

    assert all(user.check_password(DEMO_PASSWORD) for user in users)
    assert {u.username for u in users if u.is_staff} == {"manager"}


def test_seed_demo_loads_synthetic_member_bases_that_overlap(db: Any) -> None:
    _seed()
    counts = {p.slug: p.members.count() for p in Partner.objects.all()}
    assert counts == {"kirari": 200, "midori-fitness": 60, "tsubame-travel": 40, "hoshizora": 0}
    host = MemberAccount.objects.filter(partner__slug="kirari")
    assert set(host.values_list("kind", flat=True)) == {"household", "business"}
    assert not host.filter(person__isnull=True).exists()
    # Some people are members of the host and of a partner: one person, two accounts.
    shared = Person.objects.filter(accounts__partner__slug="kirari").filter(
        accounts__partner__slug="midori-fitness"
    )
    assert shared.exists()

    persons_before = Person.objects.count()
    _seed()
    assert MemberAccount.objects.count() == 300
    assert Person.objects.count() == persons_before
    latest = MemberImport.objects.filter(partner__slug="kirari").order_by("-created_at").first()
    assert latest is not None
    assert (latest.rows_created, latest.rows_unchanged) == (0, 200)
