"""API keys: their format, how they are stored, rotated and revoked, who may issue them, and
how guardian grants stand behind them."""

import re
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from guardian.models import GroupObjectPermission
from guardian.shortcuts import get_perms

from partners import keys, services
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import ApiKey, ApiScope, Partner
from tests.conftest import Key, client_for
from tests.factories import issue_key

KEY_PATTERN = re.compile(r"^sanpo_[0-9A-Za-z]{10}_[0-9A-Za-z]{38}$")


# --- Format -------------------------------------------------------------------------------------


def test_a_generated_key_has_the_documented_format() -> None:
    generated = keys.generate_key()
    assert KEY_PATTERN.match(generated.plaintext)
    assert generated.plaintext.split("_")[1] == generated.lookup
    assert keys.parse_key(generated.plaintext) == generated


def test_generated_keys_differ() -> None:
    generated = {keys.generate_key().plaintext for _ in range(50)}
    assert len(generated) == 50
    assert len({key.split("_")[1] for key in generated}) == 50


def _one_char_typos(plaintext: str) -> list[str]:
    typos = []
    for position in range(len("sanpo_"), len(plaintext)):
        if plaintext[position] == "_":
            continue
        replacement = "x" if plaintext[position] != "x" else "y"
        typos.append(plaintext[:position] + replacement + plaintext[position + 1 :])
    return typos


def test_the_checksum_catches_every_one_character_typo() -> None:
    plaintext = keys.generate_key().plaintext
    for typo in _one_char_typos(plaintext):
        assert keys.parse_key(typo) is None, typo


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sanpo",
        "sanpo__",
        "other_0123456789_" + "a" * 38,
        "sanpo_0123456789_" + "a" * 37,
        "sanpo_012345678_" + "a" * 39,
        "sanpo_0123456789_" + "a" * 36 + "-_",
        "sanpo_0123456789_" + "á" * 38,
    ],
)
def test_malformed_keys_do_not_parse(text: str) -> None:
    assert keys.parse_key(text) is None


def test_a_typo_is_refused_without_touching_the_database(partner_key: Key) -> None:
    typo = _one_char_typos(partner_key.plaintext)[20]
    with CaptureQueriesContext(connection) as queries:
        response = client_for(typo).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert not [q for q in queries.captured_queries if "partners_apikey" in q["sql"]]


def test_a_key_with_a_valid_checksum_but_wrong_secret_is_refused(partner_key: Key) -> None:
    # Same lookup, different secret, correct checksum: found by lookup, refused by digest.
    lookup = partner_key.plaintext.split("_")[1]
    body = f"sanpo_{lookup}_{'Z' * keys.SECRET_LENGTH}"
    forged = body + keys._checksum(body)
    assert keys.parse_key(forged) is not None
    response = client_for(forged).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


# --- Storage ---------------------------------------------------------------------------------


def test_only_a_digest_of_the_key_is_stored(partner: Partner, alliance_manager: Any) -> None:
    issued = issue_key(partner)
    secret_part = issued.plaintext.split("_")[2]
    row = ApiKey.objects.filter(pk=issued.api_key.pk).values().get()
    for column, value in row.items():
        assert issued.plaintext not in str(value), column
        assert secret_part[:12] not in str(value), column
    assert row["digest"] == keys.digest_key(issued.plaintext)
    assert re.fullmatch(r"[0-9a-f]{64}", row["digest"])
    assert row["lookup"] == issued.plaintext.split("_")[1]


def test_the_api_shows_the_plaintext_once(partner_key: Key) -> None:
    client = client_for(partner_key)
    created = client.post("/api/v1/api-keys", {"name": "n", "scopes": ["read"]}, format="json")
    plaintext = created.json()["key"]
    assert KEY_PATTERN.match(plaintext)
    assert created.json()["prefix"] == f"sanpo_{plaintext.split('_')[1]}_…"
    key_id = created.json()["id"]
    for path in (f"/api/v1/api-keys/{key_id}", "/api/v1/api-keys"):
        response = client.get(path)
        assert response.status_code == 200
        assert plaintext not in response.content.decode()
        assert plaintext.split("_")[2] not in response.content.decode()
    # The shown key works.
    assert client_for(plaintext).get("/api/v1/me").json()["api_key"]["id"] == key_id


def test_digests_match_uses_a_constant_time_comparison() -> None:
    plaintext = keys.generate_key().plaintext
    stored = keys.digest_key(plaintext)
    assert keys.digests_match(stored, plaintext)
    altered = plaintext[:-1] + ("x" if plaintext[-1] != "x" else "y")  # never the same key
    assert not keys.digests_match(stored, altered)
    assert not keys.digests_match("0" * 64, plaintext)
    with mock.patch.object(keys.hmac, "compare_digest", wraps=keys.hmac.compare_digest) as spy:
        assert keys.digests_match(stored, plaintext)
    spy.assert_called_once_with(stored, keys.digest_key(plaintext))


def test_authentication_compares_digests_with_digests_match(partner_key: Key) -> None:
    with mock.patch("partners.services.credentials.digests_match", wraps=keys.digests_match) as spy:
        assert client_for(partner_key).get("/api/v1/me").status_code == 200
    spy.assert_called_once()


# --- Rotation --------------------------------------------------------------------------------


def _rotate(key: Key, target_id: Any, **body: Any) -> Any:
    return client_for(key).post(f"/api/v1/api-keys/{target_id}/rotate", body, format="json")


def test_rotation_issues_a_working_successor_and_keeps_the_old_key_during_the_overlap(
    partner: Partner, partner_key: Key, settings: Any
) -> None:
    old = issue_key(partner, name="warehouse sync", scopes=(ApiScope.READ, ApiScope.WRITE))
    response = _rotate(partner_key, old.api_key.pk)

    assert response.status_code == 201
    body = response.json()
    new_plaintext = body["key"]
    assert body["name"] == "warehouse sync"
    assert body["scopes"] == ["read", "write"]
    assert body["id"] != str(old.api_key.pk)
    assert client_for(new_plaintext).get("/api/v1/me").json()["api_key"]["id"] == body["id"]

    old.api_key.refresh_from_db()
    assert str(old.api_key.replaced_by_id) == body["id"]
    overlap = timedelta(hours=settings.SANPO_API_KEY_ROTATION_OVERLAP_HOURS)
    assert old.api_key.expires_at is not None
    assert abs(old.api_key.expires_at - (timezone.now() + overlap)) < timedelta(minutes=1)
    # The old key keeps working until the overlap ends ...
    assert client_for(old.plaintext).get("/api/v1/me").status_code == 200
    # ... and then stops.
    ApiKey.objects.filter(pk=old.api_key.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    refused = client_for(old.plaintext).get("/api/v1/me")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "api_key_expired"
    assert client_for(new_plaintext).get("/api/v1/me").status_code == 200


def test_rotation_with_no_overlap_stops_the_old_key_at_once(
    partner: Partner, partner_key: Key
) -> None:
    old = issue_key(partner, name="old")
    response = _rotate(partner_key, old.api_key.pk, overlap_hours=0)
    assert response.status_code == 201
    assert client_for(old.plaintext).get("/api/v1/me").json()["error"]["code"] == (
        "api_key_expired"
    )
    assert client_for(response.json()["key"]).get("/api/v1/me").status_code == 200


def test_rotation_keeps_an_earlier_expiry(partner: Partner, partner_key: Key) -> None:
    soon = timezone.now() + timedelta(minutes=5)
    old = issue_key(partner, name="old", expires_at=soon)
    assert _rotate(partner_key, old.api_key.pk, overlap_hours=48).status_code == 201
    old.api_key.refresh_from_db()
    assert old.api_key.expires_at == soon


def test_a_key_can_rotate_itself(partner_key: Key) -> None:
    response = _rotate(partner_key, partner_key.api_key.pk, overlap_hours=0)
    assert response.status_code == 201
    assert client_for(partner_key).get("/api/v1/me").status_code == 401
    assert client_for(response.json()["key"]).get("/api/v1/me").status_code == 200


def test_a_rotated_key_cannot_be_rotated_again(partner: Partner, partner_key: Key) -> None:
    old = issue_key(partner, name="old")
    assert _rotate(partner_key, old.api_key.pk).status_code == 201
    before = ApiKey.objects.count()

    again = _rotate(partner_key, old.api_key.pk)

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert ApiKey.objects.count() == before


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_a_dead_key_cannot_be_rotated(partner: Partner, partner_key: Key, state: str) -> None:
    old = issue_key(partner, name="old")
    if state == "revoked":
        services.api_key_revoke(api_key=old.api_key, actor=Actor.system())
    else:
        ApiKey.objects.filter(pk=old.api_key.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    before = ApiKey.objects.count()
    response = _rotate(partner_key, old.api_key.pk)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert ApiKey.objects.count() == before


def test_rotating_with_a_key_that_lacks_the_targets_scopes_is_refused(
    partner: Partner, alliance_manager: Any
) -> None:
    caller = Key(partner, issue_key(partner, scopes=(ApiScope.READ, ApiScope.ADMIN)).plaintext)
    target = issue_key(partner, name="full", scopes=(ApiScope.READ, ApiScope.WRITE))
    before = ApiKey.objects.count()
    response = _rotate(caller, target.api_key.pk)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    assert ApiKey.objects.count() == before
    target.api_key.refresh_from_db()
    assert target.api_key.replaced_by_id is None
    assert target.api_key.expires_at is None


# --- Revocation ------------------------------------------------------------------------------


def test_revocation_is_immediate_and_idempotent(partner: Partner, partner_key: Key) -> None:
    victim = issue_key(partner, name="leaked")
    victim_client = client_for(victim.plaintext)
    assert victim_client.get("/api/v1/me").status_code == 200

    first = client_for(partner_key).post(f"/api/v1/api-keys/{victim.api_key.pk}/revoke")
    assert first.status_code == 200
    revoked_at = first.json()["revoked_at"]
    assert revoked_at is not None

    refused = victim_client.get("/api/v1/me")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "api_key_revoked"

    second = client_for(partner_key).post(f"/api/v1/api-keys/{victim.api_key.pk}/revoke")
    assert second.status_code == 200
    assert second.json()["revoked_at"] == revoked_at
    assert client_for(partner_key).get("/api/v1/me").status_code == 200


def test_a_key_can_revoke_itself(partner_key: Key) -> None:
    client = client_for(partner_key)
    assert client.post(f"/api/v1/api-keys/{partner_key.api_key.pk}/revoke").status_code == 200
    assert client.get("/api/v1/me").json()["error"]["code"] == "api_key_revoked"


def test_revoking_the_old_key_during_the_overlap_stops_it(
    partner: Partner, partner_key: Key
) -> None:
    old = issue_key(partner, name="old")
    new_plaintext = _rotate(partner_key, old.api_key.pk).json()["key"]
    client_for(partner_key).post(f"/api/v1/api-keys/{old.api_key.pk}/revoke")
    assert client_for(old.plaintext).get("/api/v1/me").status_code == 401
    assert client_for(new_plaintext).get("/api/v1/me").status_code == 200


# --- Last use --------------------------------------------------------------------------------


def test_last_used_at_is_recorded(partner: Partner, alliance_manager: Any) -> None:
    issued = issue_key(partner)
    assert issued.api_key.last_used_at is None
    before = timezone.now()
    assert client_for(issued.plaintext).get("/api/v1/me").status_code == 200
    issued.api_key.refresh_from_db()
    assert issued.api_key.last_used_at is not None
    assert before <= issued.api_key.last_used_at <= timezone.now()


def test_last_used_at_is_not_rewritten_on_every_request(partner_key: Key) -> None:
    client = client_for(partner_key)
    client.get("/api/v1/me")
    first = partner_key.api_key.last_used_at
    client.get("/api/v1/me")
    assert partner_key.api_key.last_used_at == first
    stale = timezone.now() - timedelta(minutes=5)
    ApiKey.objects.filter(pk=partner_key.api_key.pk).update(last_used_at=stale)
    client.get("/api/v1/me")
    assert partner_key.api_key.last_used_at > stale


def test_a_refused_key_does_not_update_last_used_at(
    partner: Partner, alliance_manager: Any
) -> None:
    issued = issue_key(partner)
    services.api_key_revoke(api_key=issued.api_key, actor=Actor.system())
    client_for(issued.plaintext).get("/api/v1/me")
    issued.api_key.refresh_from_db()
    assert issued.api_key.last_used_at is None


# --- Who may issue ---------------------------------------------------------------------------


def test_a_key_cannot_issue_scopes_it_does_not_hold(
    partner: Partner, alliance_manager: Any
) -> None:
    caller = Key(partner, issue_key(partner, scopes=(ApiScope.READ, ApiScope.ADMIN)).plaintext)
    before = ApiKey.objects.count()
    client = client_for(caller)
    for scopes in (["write"], ["read", "write"], ["admin", "write"]):
        response = client.post("/api/v1/api-keys", {"name": "x", "scopes": scopes}, format="json")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "insufficient_scope"
        assert "write" in response.json()["error"]["message"]
    assert ApiKey.objects.count() == before
    allowed = client.post("/api/v1/api-keys", {"name": "x", "scopes": ["read"]}, format="json")
    assert allowed.status_code == 201
    assert allowed.json()["scopes"] == ["read"]


def test_a_key_cannot_issue_for_another_partner(
    partner: Partner, outsider: Partner, partner_key: Key
) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.api_key_issue(
            partner=outsider, name="x", scopes=["read"], actor=Actor(api_key=partner_key.api_key)
        )
    assert refused.value.code == ErrorCode.PERMISSION_DENIED
    assert not ApiKey.objects.filter(partner=outsider).exists()


def test_a_partner_analyst_cannot_issue_keys(partner: Partner, partner_analyst: Any) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.api_key_issue(
            partner=partner, name="x", scopes=["read"], actor=Actor(user=partner_analyst)
        )
    assert refused.value.code == ErrorCode.PERMISSION_DENIED
    assert refused.value.status == 403
    assert not ApiKey.objects.filter(partner=partner).exists()


def test_a_partner_admin_issues_only_for_their_own_partner(
    partner: Partner, outsider: Partner, partner_admin: Any
) -> None:
    issued = services.api_key_issue(
        partner=partner, name="mine", scopes=["read", "admin"], actor=Actor(user=partner_admin)
    )
    assert issued.api_key.partner == partner
    assert issued.api_key.created_by_user == partner_admin
    with pytest.raises(ApplicationError) as refused:
        services.api_key_issue(
            partner=outsider, name="theirs", scopes=["read"], actor=Actor(user=partner_admin)
        )
    assert refused.value.code == ErrorCode.PERMISSION_DENIED
    assert not ApiKey.objects.filter(partner=outsider).exists()


def test_the_system_and_users_without_a_role_cannot_issue(partner: Partner) -> None:
    from tests.factories import make_user

    for actor in (Actor.system(), Actor(user=make_user("nobody"))):
        with pytest.raises(ApplicationError) as refused:
            services.api_key_issue(partner=partner, name="x", scopes=["read"], actor=actor)
        assert refused.value.code == ErrorCode.PERMISSION_DENIED
    assert not ApiKey.objects.exists()


def test_an_alliance_manager_issues_for_any_partner(
    partner: Partner, outsider: Partner, alliance_manager: Any
) -> None:
    for target in (partner, outsider):
        issued = services.api_key_issue(
            partner=target, name="x", scopes=["read"], actor=Actor(user=alliance_manager)
        )
        assert issued.api_key.partner == target


def test_a_compliance_reviewer_cannot_issue(partner: Partner, compliance_reviewer: Any) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.api_key_issue(
            partner=partner, name="x", scopes=["read"], actor=Actor(user=compliance_reviewer)
        )
    assert refused.value.code == ErrorCode.PERMISSION_DENIED


def test_the_service_refuses_a_past_expiry(partner: Partner, alliance_manager: Any) -> None:
    with pytest.raises(ApplicationError) as refused:
        issue_key(partner, expires_at=timezone.now() - timedelta(seconds=1))
    assert refused.value.code == ErrorCode.VALIDATION_FAILED
    assert "expires_at" in refused.value.fields


# --- Guardian: object grants, never global permissions -----------------------------------------


def test_partner_principals_hold_no_global_permissions(
    host: Partner, partner: Partner, outsider: Partner, partner_key: Key, outsider_key: Key
) -> None:
    for principal in (host, partner, outsider):
        assert principal.group.permissions.count() == 0
        assert principal.group.name == f"partner:{principal.slug}"


def test_each_key_is_granted_to_its_own_partner_only(
    partner: Partner, outsider: Partner, partner_key: Key, outsider_key: Key
) -> None:
    mine = partner_key.api_key
    assert sorted(get_perms(partner.group, mine)) == ["change_apikey", "view_apikey"]
    assert get_perms(outsider.group, mine) == []
    assert get_perms(partner.group, outsider_key.api_key) == []
    assert get_perms(partner.group, partner) == ["view_partner"]
    assert get_perms(partner.group, outsider) == []
    grants = GroupObjectPermission.objects.filter(object_pk=str(mine.pk))
    assert {g.group for g in grants} == {partner.group}


def test_a_key_without_a_grant_is_not_found_even_by_its_partner(
    partner: Partner, partner_key: Key, alliance_manager: Any
) -> None:
    hidden = issue_key(partner, name="hidden").api_key
    services.partner_revoke_grant(
        partner=partner, obj=hidden, perms=("view", "change"), actor=Actor(user=alliance_manager)
    )
    client = client_for(partner_key)
    assert client.get(f"/api/v1/api-keys/{hidden.pk}").status_code == 404
    assert client.post(f"/api/v1/api-keys/{hidden.pk}/revoke").status_code == 404
    listed = {item["id"] for item in client.get("/api/v1/api-keys").json()["results"]}
    assert str(hidden.pk) not in listed
    hidden.refresh_from_db()
    assert hidden.revoked_at is None


def test_a_view_only_grant_does_not_allow_revoking(
    partner: Partner, partner_key: Key, alliance_manager: Any
) -> None:
    target = issue_key(partner, name="view only").api_key
    services.partner_revoke_grant(
        partner=partner, obj=target, perms=("change",), actor=Actor(user=alliance_manager)
    )
    client = client_for(partner_key)
    assert client.get(f"/api/v1/api-keys/{target.pk}").status_code == 200
    assert client.post(f"/api/v1/api-keys/{target.pk}/revoke").status_code == 404
    target.refresh_from_db()
    assert target.revoked_at is None


def test_a_global_permission_does_not_open_other_partners_objects(
    partner: Partner, partner_key: Key, outsider_key: Key
) -> None:
    """Even if someone gave a partner group a model permission, access stays per object."""
    from django.contrib.auth.models import Permission

    partner.group.permissions.add(
        *Permission.objects.filter(codename__in=["view_apikey", "change_apikey", "view_partner"])
    )
    client = client_for(partner_key)
    theirs = outsider_key.api_key.pk
    assert client.get(f"/api/v1/api-keys/{theirs}").status_code == 404
    assert client.post(f"/api/v1/api-keys/{theirs}/revoke").status_code == 404
    assert client.get(f"/api/v1/partners/{outsider_key.partner.pk}").status_code == 404
    listed = {p["id"] for p in client.get("/api/v1/partners").json()["results"]}
    assert listed == {str(partner.pk)}
    assert Group.objects.get(pk=partner.group.pk).permissions.count() == 3
