"""One staff-role check for every console: a role given through staff_role_set, held by an
active user; Django's superuser flag grants none."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from partners.access import has_staff_role, staff_role_of
from partners.models import Partner, StaffRole
from tests.factories import make_staff, make_user

pytestmark = pytest.mark.django_db
MANAGER, REVIEWER = StaffRole.Role.ALLIANCE_MANAGER, StaffRole.Role.COMPLIANCE_REVIEWER


def test_a_role_is_what_the_check_reads() -> None:
    manager = make_staff("m", MANAGER)
    reviewer = make_staff("r", REVIEWER)

    assert has_staff_role(manager, MANAGER)
    assert not has_staff_role(manager, REVIEWER)
    assert has_staff_role(reviewer, MANAGER, REVIEWER)
    assert staff_role_of(reviewer).role == REVIEWER  # type: ignore[union-attr]


@pytest.mark.parametrize("who", ["anonymous", "none", "no role", "superuser", "inactive"])
def test_nobody_without_an_active_role_has_one(who: str, partner: Partner) -> None:
    users: dict[str, Any] = {
        "anonymous": AnonymousUser(),
        "none": None,
        "no role": make_user("plain"),
        "superuser": get_user_model().objects.create_superuser("root", "r@x.example", "pw"),
        "inactive": make_staff("gone", MANAGER),
    }
    user = users[who]
    if who == "inactive":
        user.is_active = False
        user.save()

    assert staff_role_of(user) is None
    assert not has_staff_role(user, *StaffRole.Role)


def test_the_consoles_agree_on_the_superuser(partner: Partner) -> None:
    from consent.compliance.access import is_compliance_reviewer
    from federation.agreements.admin.agreements import may_manage_agreements
    from partners.admin.members import may_view_personal_data

    root = get_user_model().objects.create_superuser("root", "r@x.example", "pw")
    checks = (may_manage_agreements, may_view_personal_data, is_compliance_reviewer)

    assert [check(root) for check in checks] == [False, False, False]
