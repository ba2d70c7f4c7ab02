"""The member's preference page: the host's portal gets a signed link for one member; the page
shows, in Japanese or English, who may use which data for what, and withdraws with one click.
No log-in, and nothing but that member's consents is reachable with the link."""

from datetime import timedelta
from typing import Any

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from consent.models import ConsentState, WithdrawalNotice
from consent.preference_page import links
from consent.selectors import consent_check
from consent.services import consent_grant
from partners.actors import Actor
from partners.models import AuditEvent, MemberAccount, Partner
from partners.services import member_erase
from tests.conftest import Key, client_for
from tests.factories import make_member, make_notice

pytestmark = pytest.mark.django_db


@pytest.fixture
def consented(host: Partner, partner: Partner) -> tuple[MemberAccount, MemberAccount]:
    """Hanako and Jiro, host members, both agreed to share their name and e-mail with the brand."""
    notice = make_notice(
        text="氏名とメールアドレスを提携先に提供します。",
        purposes=["profile_sharing"],
        recipients=[partner],
        data_items=["name", "email"],
        effective_at=timezone.now() - timedelta(days=3),
    )
    members = (make_member(host, "K-1"), make_member(host, "K-2"))
    for member in members:
        consent_grant(
            member=member,
            purpose_code="profile_sharing",
            recipient=partner,
            notice=notice,
            channel="host_portal",
            occurred_at=timezone.now() - timedelta(days=1),
            actor=Actor.system(),
        )
    return members


def _link(key: Key, number: str) -> str:
    response = client_for(key).post(f"/api/v1/members/{number}/preference-link")
    assert response.status_code == 201, response.content
    url: str = response.json()["url"]
    return url.split("testserver", 1)[1]


def test_the_member_sees_their_consents_in_japanese_or_english_and_withdraws_one(
    consented: Any, host_key: Key, partner: Partner
) -> None:
    hanako, jiro = consented
    page = _link(host_key, "K-1")
    browser = Client(enforce_csrf_checks=True)

    japanese = browser.get(page)
    assert japanese.status_code == 200
    assert partner.name_ja in japanese.content.decode()
    assert "会員情報の共有" in japanese.content.decode()
    assert "メールアドレス" in japanese.content.decode()
    assert japanese["Cache-Control"].startswith("max-age=0")
    english = browser.get(page + "?lang=en").content.decode()
    assert partner.name_latin in english
    assert "Profile sharing" in english

    token = browser.cookies["csrftoken"].value
    done = browser.post(
        page + "withdraw?lang=en",
        {"purpose": "profile_sharing", "recipient": partner.slug, "csrfmiddlewaretoken": token},
        follow=True,
    )

    assert "Your consent is withdrawn" in done.content.decode()
    # The token in the URL goes to no other site (and forms still post with a real Origin).
    assert done["Referrer-Policy"] == "same-origin"
    assert partner.name_latin not in done.content.decode()
    check = consent_check(member_id=hanako.pk, purpose_code="profile_sharing", recipient=partner)
    assert check.reason == "withdrawn"
    assert WithdrawalNotice.objects.get().recipient == partner  # the brand is told at once
    assert consent_check(member_id=jiro.pk, purpose_code="profile_sharing", recipient=partner)


@pytest.mark.parametrize("damage", ["tampered", "expired", "erased", "another member"])
def test_a_bad_link_reaches_nothing(
    consented: Any,
    host_key: Key,
    partner: Partner,
    damage: str,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    hanako, jiro = consented
    if damage == "expired":
        real = links.signing.TimestampSigner.timestamp
        monkeypatch.setattr(
            links.signing.TimestampSigner,
            "timestamp",
            lambda self: links.signing.b62_encode(
                int(timezone.now().timestamp()) - settings.SANPO_PREFERENCE_LINK_HOURS * 3600 - 60
            ),
        )
        page = _link(host_key, "K-1")
        monkeypatch.setattr(links.signing.TimestampSigner, "timestamp", real)
    else:
        page = _link(host_key, "K-1")
    if damage == "tampered":
        flipped = "A" if page[-2] != "A" else "B"  # the signature's last character
        page = page[:-2] + flipped + "/"
    if damage == "erased":
        member_erase(member=hanako, actor=Actor.system())
    body = {"purpose": "profile_sharing", "recipient": partner.slug}

    if damage == "another member":
        # Hanako's link cannot withdraw Jiro's consent, whatever the form says.
        Client().post(page + "withdraw", {**body, "member": str(jiro.pk)})
        assert consent_check(member_id=jiro.pk, purpose_code="profile_sharing", recipient=partner)
        return
    in_force = ConsentState.objects.filter(granted=True).count()  # erasure withdrew Hanako's
    refused = Client().get(page)
    assert refused.status_code == 404
    # In both languages, since we cannot tell which the member reads, and naming nobody.
    assert "このリンクは使えません" in refused.content.decode()
    assert "This link does not work" in refused.content.decode()
    assert "佐藤" not in refused.content.decode()
    assert Client().post(page + "withdraw", body).status_code == 404
    assert ConsentState.objects.filter(granted=True).count() == in_force  # the link changed nothing


def test_a_tampered_or_foreign_link_is_refused_and_recorded(consented: Any, host_key: Key) -> None:
    hanako, _ = consented
    page = _link(host_key, "K-1")
    token = page.rstrip("/").rsplit("/", 1)[1]
    prefix = page[: -len(token) - 1]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    # Signed by Sanpo, but for something else: the salt keeps it from opening this page.
    foreign = signing.TimestampSigner(salt="another.purpose").sign(hanako.pk.hex)

    for bad in (tampered, foreign):
        refused = Client().get(f"{prefix}{bad}/")
        assert refused.status_code == 404
        assert "This link does not work" in refused.content.decode()
        assert "このリンクは使えません" in refused.content.decode()
    assert Client().get(page).status_code == 200  # the real link still works, unrecorded

    events = AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REFUSED)
    assert [(e.outcome, e.detail["token"]) for e in events] == [("denied", "preference link")] * 2
    assert all(tampered not in str(e.detail) for e in events)


def test_only_the_members_own_partner_can_ask_for_a_link(
    consented: Any, outsider_key: Key, partner_read_key: Key
) -> None:
    assert client_for(outsider_key).post("/api/v1/members/K-1/preference-link").status_code == 404
    assert client_for(partner_read_key).post("/api/v1/members/K-1/preference-link").status_code in (
        403,
        404,
    )


def test_a_withdrawal_of_a_consent_not_in_force_changes_nothing(
    consented: Any, host_key: Key, outsider: Partner
) -> None:
    page = _link(host_key, "K-2")

    response = Client().post(
        page + "withdraw", {"purpose": "profile_sharing", "recipient": outsider.slug}
    )

    assert response.status_code == 404
    assert Client().get(page + "withdraw").status_code == 405
    assert ConsentState.objects.filter(granted=True).count() == 2
