"""`manage.py seed_demo` loads the fictional demo alliance and converges when run again."""

from io import StringIO
from typing import Any

from django.conf import settings as settings_module
from django.contrib.auth import get_user_model
from django.core.management import call_command

from partners.actors import Actor
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
from partners.services import api_key_authenticate, api_key_issue, api_key_revoke


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
        (key,) = ApiKey.objects.filter(partner=partner, name=DEMO_KEY_NAME)  # one, not per run
        assert key.revoked_at is None
        assert sorted(key.scopes) == sorted([ApiScope.READ, ApiScope.WRITE, ApiScope.ADMIN])

    # Both runs print the same keys, and they work: re-running make run revokes nothing.
    keys = _shown_keys(first)
    assert len(keys) == 4
    assert _shown_keys(second) == keys
    assert {api_key_authenticate(k).partner.slug for k in keys} == {p.slug for p in partners}

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


def test_the_demo_keys_are_the_readmes_on_the_development_secret_key(db: Any) -> None:
    """The README shows these keys; they follow from the public development SECRET_KEY."""
    keys = _shown_keys(_seed())
    assert "sanpo_mr0VMrejpT_UAmMKB7QJK8FGRtLniBRyqOtAn4HHyd52WvpQ0" in keys  # Midori
    assert "sanpo_cFRhmvbhcO_yCjuaJHR4NSD2gZYoth8nqu8wh5taB3r05VXBz" in keys  # Kirari
    with open(settings_module.BASE_DIR / "README.md", encoding="utf-8") as readme:
        text = readme.read()
    assert all(key in text for key in keys)


def test_a_database_seeded_by_the_older_command_keeps_its_keys_and_gains_the_fixed_ones(
    db: Any,
) -> None:
    _seed()
    # The older command issued random demo keys; one is still live on such a database.
    old = api_key_issue(
        partner=Partner.objects.get(slug="kirari"),
        name=DEMO_KEY_NAME,
        scopes=[ApiScope.READ],
        actor=Actor(user=get_user_model().objects.get(username="manager")),
    )

    _seed()

    assert api_key_authenticate(old.plaintext).partner.slug == "kirari"  # not revoked
    assert ApiKey.objects.filter(partner__slug="kirari", name=DEMO_KEY_NAME).count() == 2


def test_without_the_development_defaults_each_run_replaces_the_keys_and_says_so(
    db: Any, settings: Any
) -> None:
    settings.ALLOW_INSECURE_DEFAULTS = False
    first = _seed()
    second = _seed()

    assert "earlier demo keys are revoked" in second
    first_keys, second_keys = _shown_keys(first), _shown_keys(second)
    assert len(second_keys) == 4
    assert not set(first_keys) & set(second_keys)
    for key in first_keys:
        assert ApiKey.objects.get(lookup=key.split("_")[1]).revoked_at is not None
    assert {api_key_authenticate(k).partner.slug for k in second_keys} == {
        p.slug for p in Partner.objects.all()
    }


def test_a_revoked_demo_key_is_replaced_by_a_new_one(db: Any) -> None:
    keys = _shown_keys(_seed())
    midori = ApiKey.objects.get(lookup=keys[2].split("_")[1])
    api_key_revoke(api_key=midori, actor=Actor.system())

    replaced = _shown_keys(_seed())

    assert replaced[2] != keys[2]
    assert api_key_authenticate(replaced[2]).partner.slug == "midori-fitness"
    assert replaced[:2] + replaced[3:] == keys[:2] + keys[3:]
