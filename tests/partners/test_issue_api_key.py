"""`manage.py issue_api_key` issues one key for a script and prints the key alone."""

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from partners.models import ApiScope, Partner
from partners.services import api_key_authenticate


def _issue(*args: str) -> str:
    out = StringIO()
    call_command("issue_api_key", *args, stdout=out)
    return out.getvalue().strip()


def test_a_manager_issues_a_key_with_every_scope(partner: Partner, alliance_manager: Any) -> None:
    key = _issue(partner.slug, "--by", alliance_manager.username, "--name", "fuzz")

    api_key = api_key_authenticate(key)
    assert api_key.partner == partner
    assert api_key.name == "fuzz"
    assert sorted(api_key.scopes) == sorted(ApiScope.values)


def test_scopes_can_be_named(partner: Partner, alliance_manager: Any) -> None:
    key = _issue(partner.slug, "--by", alliance_manager.username, "--scope", "read")

    assert api_key_authenticate(key).scopes == ["read"]


def test_only_someone_who_may_issue_it_does(partner: Partner, outsider: Partner, db: Any) -> None:
    from partners.models import StaffRole
    from tests.factories import make_staff

    other_admin = make_staff("other-admin", StaffRole.Role.PARTNER_ADMIN, outsider)

    with pytest.raises(CommandError, match="You may not do this"):
        _issue(partner.slug, "--by", other_admin.username)
    with pytest.raises(CommandError, match="no partner"):
        _issue("nobody", "--by", other_admin.username)
