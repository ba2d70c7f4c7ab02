"""The machinery of every app's permission matrix: each app lists its own endpoints and builds
the world they act on (its ``tests/<app>/test_api_permissions.py``), and this module calls each
endpoint as every kind of caller: nobody, a malformed header, a mistyped key, a revoked key, an
expired key, a key of a suspended partner, a read-only key, a key of another partner, and the
partner itself. A refusal must carry the right code, change nothing and name nothing of the
partner it protects; another partner's object must answer exactly like a missing one.
"""

from __future__ import annotations

import re
import string
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from types import ModuleType
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.urls import URLPattern, URLResolver
from django.utils import timezone
from rest_framework.test import APIClient

from partners import services
from partners.actors import Actor
from partners.models import (
    ApiKey,
    ApiScope,
    MemberAccount,
    Partner,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSecret,
)
from tests.conftest import Key, client_for
from tests.factories import issue_key, make_member

IDENTITY = {"email": "hanako.member@brand.example", "birth_date": "1984-05-06"}


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # with {placeholders} named in the world's ``ids`` for its object
    scope: str  # the scope it needs
    ok: int  # the status the partner itself gets
    body: dict[str, Any] | None = None  # string values may name ids too
    query: str = ""  # a query string, which may name ids too
    # What another partner gets when the object it names is in the body or the query rather
    # than the path (a member number, a company it has no agreement with); by default it is
    # served like the partner itself, in its own scope.
    stranger: tuple[int, str] | None = None

    @property
    def addresses_object(self) -> bool:
        return "{" in self.path

    @property
    def placeholders(self) -> list[str]:
        return [name for _, name, _, _ in string.Formatter().parse(self.path) if name]


CALLERS = [
    "anonymous",
    "malformed_header",
    "bad_checksum",
    "revoked",
    "expired",
    "suspended",
    "read_only",
    "other_partner",
    "owner",
]


@dataclass
class World:
    """The partner (brand-co) with a member, its keys, and a stranger (outsider-co) with its
    own key. An app's world adds its objects, their ``ids`` for paths and bodies, the
    ``secrets`` no refusal may contain, and a ``states`` reader of what its calls could change
    (the audit log aside, which records refusals)."""

    host: Partner
    partner: Partner
    outsider: Partner
    owner_key: Key
    read_key: Key
    outsider_key: Key
    member: MemberAccount
    ids: dict[str, str]
    secrets: list[str]
    states: list[Callable[[], Any]]

    def snapshot(self) -> tuple[Any, ...]:
        return tuple(state() for state in self.states)


def partners_state() -> tuple[Any, ...]:
    """What any call could change in ``partners``: keys, webhooks, partners and members."""
    return (
        sorted(ApiKey.objects.values_list("pk", "revoked_at", "expires_at", "replaced_by")),
        sorted(WebhookEndpoint.objects.values_list("pk", "url", "description", "is_active")),
        sorted(
            (pk, tuple(events))
            for pk, events in WebhookEndpoint.objects.values_list("pk", "events")
        ),
        WebhookSecret.objects.count(),
        WebhookDelivery.objects.count(),
        sorted(Partner.objects.values_list("pk", "status")),
        sorted(
            MemberAccount.objects.values_list("partner_id", "member_number", "status", "updated_at")
        ),
    )


def base_world(
    host: Partner,
    partner: Partner,
    outsider: Partner,
    owner_key: Key,
    read_key: Key,
    outsider_key: Key,
) -> World:
    member = make_member(
        partner,
        "BC-7731",
        name="会員 花子",
        email=IDENTITY["email"],
        birth_date=IDENTITY["birth_date"],
    )
    return World(
        host=host,
        partner=partner,
        outsider=outsider,
        owner_key=owner_key,
        read_key=read_key,
        outsider_key=outsider_key,
        member=member,
        ids={"partner_id": str(partner.pk), "member_number": member.member_number},
        secrets=[
            str(partner.pk),
            partner.slug,
            partner.name_latin,
            partner.name_ja,
            owner_key.plaintext.split("_")[1],
            member.member_number,
            IDENTITY["email"],
            "会員 花子",
        ],
        states=[partners_state],
    )


# --- Calling ----------------------------------------------------------------------------------


def _typo(plaintext: str) -> str:
    """The key with one character of its secret changed: the checksum no longer matches."""
    position = len("sanpo_") + 10 + 1 + 5
    replacement = "A" if plaintext[position] != "A" else "B"
    return plaintext[:position] + replacement + plaintext[position + 1 :]


def _client_for_caller(caller: str, world: World) -> APIClient:
    if caller == "anonymous":
        return client_for(None)
    if caller == "malformed_header":
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Basic {world.owner_key.plaintext}")
        return client
    if caller == "bad_checksum":
        return client_for(_typo(world.owner_key.plaintext))
    if caller == "revoked":
        issued = issue_key(world.partner, name="revoked key")
        services.api_key_revoke(api_key=issued.api_key, actor=Actor.system())
        return client_for(issued.plaintext)
    if caller == "expired":
        issued = issue_key(world.partner, name="expired key")
        ApiKey.objects.filter(pk=issued.api_key.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        return client_for(issued.plaintext)
    if caller == "suspended":
        services.partner_suspend(partner=world.partner, actor=Actor.system())
        return client_for(world.owner_key)
    if caller == "read_only":
        return client_for(world.read_key)
    if caller == "other_partner":
        return client_for(world.outsider_key)
    assert caller == "owner"
    return client_for(world.owner_key)


def _expected(caller: str, endpoint: Endpoint) -> tuple[int, str | None]:
    refusals = {
        "anonymous": (401, "authentication_required"),
        "malformed_header": (401, "invalid_api_key"),
        "bad_checksum": (401, "invalid_api_key"),
        "revoked": (401, "api_key_revoked"),
        "expired": (401, "api_key_expired"),
        "suspended": (403, "partner_suspended"),
    }
    if caller in refusals:
        return refusals[caller]
    if caller == "read_only" and endpoint.scope != ApiScope.READ:
        return 403, "insufficient_scope"
    if caller == "other_partner" and endpoint.addresses_object:
        return 404, "not_found"
    if caller == "other_partner" and endpoint.stranger is not None:
        return endpoint.stranger
    return endpoint.ok, None


def call(client: APIClient, endpoint: Endpoint, path: str, ids: dict[str, str]) -> Any:
    method = getattr(client, endpoint.method)
    if endpoint.query:
        path = f"{path}?{endpoint.query.format(**ids)}"
    if endpoint.method in {"post", "put", "patch"}:
        body = {
            name: value.format(**ids) if isinstance(value, str) else value
            for name, value in (endpoint.body or {}).items()
        }
        # Every write carries a fresh key: endpoints that move coins refuse one without.
        return method(path, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    return method(path)


def check_every_caller(world: World, endpoint: Endpoint) -> None:
    """Every caller against this endpoint. Each caller runs in a savepoint rolled back after
    it, so no caller sees another's changes."""
    for caller in CALLERS:
        with transaction.atomic():
            _check_caller(world, endpoint, caller)
            transaction.set_rollback(True)
        cache.clear()  # rate-limit counters and anything cached about the rolled-back caller


def _check_caller(world: World, endpoint: Endpoint, caller: str) -> None:
    client = _client_for_caller(caller, world)
    before = world.snapshot()
    path = endpoint.path.format(**world.ids)

    response = call(client, endpoint, path, world.ids)

    status, code = _expected(caller, endpoint)
    assert response.status_code == status, (caller, response.content)
    if code is None:
        if status == 204:
            assert response.content == b"", caller
        return
    body = response.json()
    assert set(body) == {"error"}, caller
    assert body["error"]["code"] == code, caller
    assert isinstance(body["error"]["message"], str), caller
    assert body["error"]["message"], caller
    # A refusal changes nothing and names nothing of the partner it protects.
    assert world.snapshot() == before, caller
    text = response.content.decode()
    for secret in world.secrets:
        assert secret not in text, f"{secret!r} leaked in a refusal to {caller}"
    if status == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="sanpo"', caller


def check_indistinguishable(world: World, endpoint: Endpoint) -> None:
    """Another partner's object answers exactly like a missing one, to the stranger and to
    the partner itself."""
    client = client_for(world.outsider_key)
    not_yours = call(client, endpoint, endpoint.path.format(**world.ids), world.ids)
    assert not_yours.status_code == 404
    missing_paths = [
        endpoint.path.format(**dict.fromkeys(endpoint.placeholders, missing))
        for missing in (str(uuid.uuid4()), "not-a-uuid", "2147483000")
    ]
    for path in missing_paths:
        missing = call(client, endpoint, path, world.ids)
        assert missing.status_code == 404, path
        assert missing.content == not_yours.content, path
    for path in missing_paths:
        owner = call(client_for(world.owner_key), endpoint, path, world.ids)
        assert owner.content == not_yours.content


# --- Coverage ---------------------------------------------------------------------------------


def _views(patterns: Iterable[Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Every route and its view class, through included URL modules."""
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found.extend(_views(pattern.url_patterns, route))
        else:
            assert isinstance(pattern, URLPattern)
            found.append((route, pattern.callback.view_class))  # type: ignore[attr-defined]
    return found


def routes_of(urlconf: ModuleType) -> set[tuple[str, str]]:
    """Every (route, method) an app's URL module serves, ids written ``<>``."""
    routes = set()
    for raw_route, view in _views(urlconf.urlpatterns):
        route = re.sub(r"<[^>]+>", "<>", raw_route)
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view, method):
                routes.add((route, method))
    return routes


def routes_covered(endpoints: Iterable[Endpoint]) -> set[tuple[str, str]]:
    return {
        (re.sub(r"\{[^}]+\}", "<>", e.path.removeprefix("/api/v1/")), e.method) for e in endpoints
    }
