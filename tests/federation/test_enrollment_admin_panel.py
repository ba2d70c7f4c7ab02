"""The enrollment panel federation registers on a member's page in the console
(``federation.enrollment.admin_panels`` through ``partners.admin.member_panels``)."""

from django.contrib.auth.models import User
from django.test import Client

from federation import services
from partners.actors import Actor
from partners.models import MemberAccount, Partner


def _panel(client: Client, member: MemberAccount) -> str:
    response = client.get(f"/admin/partners/memberaccount/{member.pk}/change/")
    assert response.status_code == 200
    content = response.content.decode()
    start = content.index('id="panel-enrollments"')
    return content[start : content.index("</fieldset>", start)]


def test_the_member_page_lists_the_members_enrollments(
    alliance_manager: User, hanako: MemberAccount, partner: Partner
) -> None:
    client = Client()
    client.force_login(alliance_manager)
    assert "has not been enrolled anywhere" in _panel(client, hanako)

    services.enrollment_request(member=hanako, target=partner, fields=None, actor=Actor.system())

    panel = _panel(client, hanako)
    assert "Brand Co" in panel
    assert "Host Co" in panel
    assert "佐藤" not in panel  # the member's name is personal data: never on the panel
