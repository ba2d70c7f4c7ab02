"""Who may call what: a permission matrix over every endpoint of the partner API.

Every endpoint is called by every kind of caller: nobody, a malformed header, a mistyped key,
a revoked key, an expired key, a key of a suspended partner, a read-only key, a key of another
partner, and the partner itself. A refusal must carry the right code, change nothing and name
nothing of the partner it protects.
"""

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import URLPattern, URLResolver
from django.utils import timezone
from rest_framework.test import APIClient

from consent.models import (
    ConsentEvent,
    ConsentState,
    DataSubjectRequest,
    PrivacyNotice,
    ProvisionRecord,
    WithdrawalNotice,
)
from consent.services import consent_grant, consent_withdraw, data_request_submit, notice_publish
from federation import services as federation_services
from federation.models import (
    Agreement,
    AgreementParty,
    AgreementVersion,
    Enrollment,
    EnrollmentBatch,
    OverlapQuery,
    OverlapVisibility,
)
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
from partners.pii import pseudonym_for
from tests.conftest import Key, client_for
from tests.factories import issue_key, make_partner

HOOK_URL = "http://127.0.0.1:9/hook"  # loopback is allowed in tests; nothing listens on 9
OTHER_HOOK_URL = "http://127.0.0.1:9/outsider-hook"


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # with {partner_id}, {key_id}, {endpoint_id} or {member_number} for its object
    scope: str  # the scope it needs
    ok: int  # the status the partner itself gets
    body: dict[str, Any] | None = None  # string values may name {notice_id}
    query: str = ""  # a query string, which may name ids too
    # What another partner gets when the object it names is in the body or the query rather
    # than the path (a member number, a company it has no agreement with); by default it is
    # served like the partner itself, in its own scope.
    stranger: tuple[int, str] | None = None

    @property
    def addresses_object(self) -> bool:
        return "{" in self.path


WEBHOOK_BODY = {"url": HOOK_URL + "2", "events": ["api_key.issued"]}
NEW_MEMBER = {"member_number": "BC-NEW-1", "kind": "household", "name": "新規 会員"}
CONSENT = {"purpose": "cross_enrollment", "recipient": "brand-co", "channel": "partner_app"}

IDENTITY = {"email": "hanako.member@brand.example", "birth_date": "1984-05-06"}

ENDPOINTS = [
    Endpoint("me", "get", "/api/v1/me", "read", 200),
    Endpoint("partner-list", "get", "/api/v1/partners", "read", 200),
    Endpoint("partner-detail", "get", "/api/v1/partners/{partner_id}", "read", 200),
    Endpoint("api-key-list", "get", "/api/v1/api-keys", "admin", 200),
    Endpoint(
        "api-key-create",
        "post",
        "/api/v1/api-keys",
        "admin",
        201,
        {"name": "new", "scopes": ["read"]},
    ),
    Endpoint("api-key-detail", "get", "/api/v1/api-keys/{key_id}", "admin", 200),
    Endpoint("api-key-revoke", "post", "/api/v1/api-keys/{key_id}/revoke", "admin", 200),
    Endpoint("api-key-rotate", "post", "/api/v1/api-keys/{key_id}/rotate", "admin", 201, {}),
    Endpoint("webhook-list", "get", "/api/v1/webhook-endpoints", "admin", 200),
    Endpoint("webhook-create", "post", "/api/v1/webhook-endpoints", "admin", 201, WEBHOOK_BODY),
    Endpoint("webhook-detail", "get", "/api/v1/webhook-endpoints/{endpoint_id}", "admin", 200),
    Endpoint(
        "webhook-update",
        "patch",
        "/api/v1/webhook-endpoints/{endpoint_id}",
        "admin",
        200,
        {"description": "changed by the caller"},
    ),
    Endpoint("webhook-delete", "delete", "/api/v1/webhook-endpoints/{endpoint_id}", "admin", 204),
    Endpoint(
        "webhook-rotate-secret",
        "post",
        "/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret",
        "admin",
        200,
        {},
    ),
    Endpoint("webhook-ping", "post", "/api/v1/webhook-endpoints/{endpoint_id}/ping", "admin", 202),
    Endpoint(
        "webhook-deliveries",
        "get",
        "/api/v1/webhook-endpoints/{endpoint_id}/deliveries",
        "admin",
        200,
    ),
    Endpoint("webhook-event-types", "get", "/api/v1/webhook-event-types", "read", 200),
    Endpoint("member-list", "get", "/api/v1/members", "read", 200),
    Endpoint("member-create", "post", "/api/v1/members", "write", 201, NEW_MEMBER),
    Endpoint(
        "member-bulk", "post", "/api/v1/members/bulk", "write", 200, {"members": [NEW_MEMBER]}
    ),
    Endpoint("member-detail", "get", "/api/v1/members/{member_number}", "read", 200),
    Endpoint(
        "member-update",
        "patch",
        "/api/v1/members/{member_number}",
        "write",
        200,
        {"name_kana": "カエタ"},
    ),
    Endpoint(
        "member-deactivate", "post", "/api/v1/members/{member_number}/deactivate", "write", 200
    ),
    Endpoint("consent-purposes", "get", "/api/v1/consent/purposes", "read", 200),
    Endpoint("consent-notices", "get", "/api/v1/consent/notices/current", "read", 200),
    Endpoint(
        "consent-check",
        "post",
        "/api/v1/consent/check",
        "read",
        200,
        {"purpose": "cross_enrollment", "members": ["BC-7731"]},
    ),
    Endpoint("member-consents", "get", "/api/v1/members/{member_number}/consents", "read", 200),
    Endpoint(
        "member-consent-grant",
        "post",
        "/api/v1/members/{member_number}/consents",
        "write",
        201,
        {**CONSENT, "notice": "{notice_id}", "occurred_at": "2026-01-05T10:00:00+09:00"},
    ),
    Endpoint(
        "member-consent-withdraw",
        "post",
        "/api/v1/members/{member_number}/consents/withdraw",
        "write",
        200,
        {**CONSENT, "occurred_at": "2026-01-06T10:00:00+09:00"},
    ),
    Endpoint(
        "member-preference-link",
        "post",
        "/api/v1/members/{member_number}/preference-link",
        "write",
        201,
    ),
    Endpoint("consent-withdrawals", "get", "/api/v1/consent/withdrawals", "read", 200),
    Endpoint(
        "member-data-request",
        "post",
        "/api/v1/members/{member_number}/data-requests",
        "write",
        200,  # repeats the open access request of the world, after verifying again
        {"kind": "access", "identity": IDENTITY},
    ),
    Endpoint("data-requests", "get", "/api/v1/data-requests", "read", 200),
    Endpoint("data-request-detail", "get", "/api/v1/data-requests/{request_id}", "read", 200),
    Endpoint(
        "data-request-export", "get", "/api/v1/data-requests/{request_id}/export", "read", 200
    ),
    Endpoint(
        "consent-withdrawal-acknowledge",
        "post",
        "/api/v1/consent/withdrawals/{withdrawal_id}/acknowledge",
        "write",
        200,
    ),
    Endpoint("agreement-list", "get", "/api/v1/agreements", "read", 200),
    Endpoint("agreement-detail", "get", "/api/v1/agreements/{agreement_id}", "read", 200),
    Endpoint(
        "agreement-version-detail",
        "get",
        "/api/v1/agreements/{agreement_id}/versions/{number}",
        "read",
        200,
    ),
    Endpoint(
        "agreement-version-sign",
        "post",
        "/api/v1/agreements/{agreement_id}/versions/{number}/sign",
        "admin",
        200,
        {"signed_by": "鈴木 一郎 (代表取締役)"},
    ),
    Endpoint(
        "agreement-version-diff",
        "get",
        "/api/v1/agreements/{agreement_id}/versions/{number}/diff",
        "read",
        200,
        query="against={against}",
    ),
    Endpoint("enrollment-list", "get", "/api/v1/enrollments", "read", 200),
    Endpoint(
        "enrollment-create",
        "post",
        "/api/v1/enrollments",
        "write",
        201,
        {"member_number": "BC-7731", "target": "host-co"},
        stranger=(404, "not_found"),  # the member number is not in its base
    ),
    Endpoint(
        "enrollment-bulk",
        "post",
        "/api/v1/enrollments/bulk",
        "write",
        202,
        {"target": "host-co", "member_numbers": ["BC-7731"]},
        stranger=(403, "no_agreement"),
    ),
    Endpoint("enrollment-detail", "get", "/api/v1/enrollments/{enrollment_id}", "read", 200),
    Endpoint("enrollment-member", "get", "/api/v1/enrollments/{enrollment_id}/member", "read", 200),
    Endpoint(
        "enrollment-confirm",
        "post",
        "/api/v1/enrollments/{enrollment_id}/confirm",
        "write",
        200,
        {"member_number": "BC-LINKED-1"},
    ),
    Endpoint(
        "enrollment-end",
        "post",
        "/api/v1/enrollments/{enrollment_id}/end",
        "write",
        200,
        {"reason": "the member left"},
    ),
    Endpoint(
        "enrollment-batch-detail", "get", "/api/v1/enrollment-batches/{batch_id}", "read", 200
    ),
    Endpoint(
        "overlap",
        "get",
        "/api/v1/overlap",
        "read",
        200,
        query="other=host-co&breakdown=kind",
        stranger=(403, "no_agreement"),
    ),
    Endpoint("overlap-visibility-list", "get", "/api/v1/overlap/visibility", "read", 200),
    Endpoint(
        "overlap-visibility-set",
        "put",
        "/api/v1/overlap/visibility/{viewer_slug}",
        "admin",
        200,
        {"level": "counts"},
    ),
]

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
    partner: Partner
    outsider: Partner
    owner_key: Key
    read_key: Key
    outsider_key: Key
    target_key: ApiKey  # a key of the partner that the calls revoke, rotate or read
    endpoint: WebhookEndpoint
    outsider_endpoint: WebhookEndpoint
    delivery: WebhookDelivery
    member: MemberAccount
    notice: PrivacyNotice
    withdrawal: WithdrawalNotice
    data_request: DataSubjectRequest
    agreement: Agreement  # version 1 signed by the host and the partner, version 2 proposed
    enrollment: Enrollment  # a host member in the partner's program
    batch: EnrollmentBatch  # a queued campaign of the host into the partner's program
    secrets: list[str] = field(default_factory=list)  # strings no refusal may contain

    def ids(self) -> dict[str, str]:
        return {
            "partner_id": str(self.partner.pk),
            "key_id": str(self.target_key.pk),
            "endpoint_id": str(self.endpoint.pk),
            "member_number": self.member.member_number,
            "notice_id": str(self.notice.pk),
            "withdrawal_id": str(self.withdrawal.event_id),
            "request_id": str(self.data_request.pk),
            "agreement_id": str(self.agreement.pk),
            "number": "2",
            "against": "1",
            "enrollment_id": str(self.enrollment.pk),
            "batch_id": str(self.batch.pk),
            "viewer_slug": self.enrollment.source.slug,  # the host, the partner's counterparty
        }


def _agreement(host: Partner, partner: Partner) -> Agreement:
    """An agreement of the host and the partner (never the outsider): version 1 in force,
    version 2 awaiting both signatures. Each may enroll its members in the other's program,
    and the host may give the partner overlap counts."""
    today = timezone.localdate()
    parties = [
        federation_services.PartyInput(company, f"{company.slug} alliance desk", email)
        for company, email in ((host, "alliance@host.example"), (partner, "deals@brand.example"))
    ]

    def terms(min_cell: int) -> dict[str, Any]:
        flows = [
            (host, partner, "cross_enrollment", ["email"]),
            (partner, host, "cross_enrollment", ["email"]),
            (host, partner, "overlap_matching", ["kind"]),
        ]
        return {
            "data_flows": [
                {"provider": p.slug, "recipient": r.slug, "purpose": purpose, "fields": fields}
                for p, r, purpose, fields in flows
            ],
            "overlap": {"min_cell": min_cell},
        }

    agreement = federation_services.agreement_create(
        title="Brand Co loyalty alliance",
        host=host,
        parties=parties,
        terms=terms(50),
        effective_from=today,
        valid_until=today + timedelta(days=365),
        actor=Actor.system(),
    )
    first = federation_services.version_propose(
        version=agreement.versions.get(number=1), actor=Actor.system()
    )
    for company in (host, partner):
        federation_services.version_sign(
            version=first, partner=company, signed_by="Signatory", actor=Actor.system()
        )
    second = federation_services.version_draft(
        agreement=agreement,
        parties=parties,
        terms=terms(100),
        effective_from=today,
        valid_until=today + timedelta(days=365),
        actor=Actor.system(),
    )
    federation_services.version_propose(version=second, actor=Actor.system())
    return agreement


@pytest.fixture
def world(
    host: Partner,
    partner: Partner,
    outsider: Partner,
    partner_key: Key,
    partner_read_key: Key,
    outsider_key: Key,
) -> World:
    target = issue_key(partner, name="integration key").api_key
    endpoint = services.webhook_endpoint_create(
        partner=partner,
        url=HOOK_URL,
        events=["api_key.issued"],
        description="brand-co order feed",
        actor=Actor.system(),
    ).endpoint
    outsider_endpoint = services.webhook_endpoint_create(
        partner=outsider, url=OTHER_HOOK_URL, events=["api_key.issued"], actor=Actor.system()
    ).endpoint
    (delivery,) = services.webhook_emit(
        partner=partner, event_type="webhook.ping", data={}, only=endpoint
    )
    member = services.member_create(
        partner=partner,
        values={
            "member_number": "BC-7731",
            "kind": "household",
            "name": "会員 花子",
            "email": "hanako.member@brand.example",
            "birth_date": "1984-05-06",
        },
        actor=Actor.system(),
    )
    data_request, _ = data_request_submit(
        member=member,
        kind="access",
        identity=IDENTITY,
        received_via=partner,
        actor=Actor.system(),
    )
    notice = notice_publish(
        version=1,
        language="ja",
        text="同意いただいた項目を提携先に提供します。",
        purposes=["cross_enrollment", "co_marketing_contact", "profile_sharing"],
        recipients=[partner, host],
        data_items=["name", "email"],
        effective_at=datetime(2025, 1, 1, tzinfo=UTC),
        actor=Actor.system(),
    )
    consent_grant(  # in force, so that a withdrawal has something to withdraw
        member=member,
        purpose_code="cross_enrollment",
        recipient=partner,
        notice=notice,
        channel="partner_app",
        occurred_at=datetime(2026, 1, 4, 10, 0, tzinfo=UTC),  # before the bodies' times below
        actor=Actor.system(),
    )
    for action in (consent_grant, consent_withdraw):  # a withdrawal sent to the partner
        options: dict[str, Any] = {"notice": notice} if action is consent_grant else {}
        action(
            member=member,
            purpose_code="co_marketing_contact",
            recipient=partner,
            channel="partner_app",
            occurred_at=datetime(2026, 1, 4, 10, 0, tzinfo=UTC),
            actor=Actor.system(),
            **options,
        )
    withdrawal = WithdrawalNotice.objects.get(recipient=partner)
    agreement = _agreement(host, partner)
    # The partner's member may join the host's program (enrollment-create)...
    _consent_to_enrollment(member, host, notice, "partner_app")
    # ... and a host member is in the partner's program, with a campaign queued.
    host_member = services.member_create(
        partner=host,
        values={"member_number": "HC-1", "kind": "household", "name": "主催 太郎"},
        actor=Actor.system(),
    )
    _consent_to_enrollment(host_member, partner, notice, "host_portal")
    enrollment = federation_services.enrollment_request(
        member=host_member, target=partner, fields=None, actor=Actor.system()
    )
    batch = federation_services.enrollment_batch_start(
        source=host, target=partner, member_numbers=["HC-1"], fields=None, actor=Actor.system()
    )
    federation_services.overlap_visibility_set(
        owner=host, viewer=partner, level="counts", actor=Actor.system()
    )
    protected = [
        str(partner.pk),
        partner.slug,
        partner.name_latin,
        partner.name_ja,
        str(target.pk),
        target.lookup,
        target.name,
        str(endpoint.pk),
        endpoint.url,
        endpoint.description,
        str(delivery.pk),
        partner_key.plaintext.split("_")[1],
        member.member_number,
        "hanako.member@brand.example",
        "会員 花子",
        str(agreement.pk),
        agreement.title,
        "deals@brand.example",
        "brand-co alliance desk",
        str(enrollment.pk),
        str(batch.pk),
        pseudonym_for(host_member.pk, partner.pk),
        "主催 太郎",
    ]
    return World(
        partner=partner,
        outsider=outsider,
        owner_key=partner_key,
        read_key=partner_read_key,
        outsider_key=outsider_key,
        target_key=target,
        endpoint=endpoint,
        outsider_endpoint=outsider_endpoint,
        delivery=delivery,
        member=member,
        notice=notice,
        withdrawal=withdrawal,
        data_request=data_request,
        agreement=agreement,
        enrollment=enrollment,
        batch=batch,
        secrets=protected,
    )


def _consent_to_enrollment(
    member: MemberAccount, target: Partner, notice: PrivacyNotice, channel: str
) -> None:
    for purpose in ("cross_enrollment", "profile_sharing"):
        consent_grant(
            member=member,
            purpose_code=purpose,
            recipient=target,
            notice=notice,
            channel=channel,
            occurred_at=datetime(2026, 1, 4, 10, 0, tzinfo=UTC),
            actor=Actor.system(),
        )


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


def _call(client: APIClient, endpoint: Endpoint, path: str, ids: dict[str, str]) -> Any:
    method = getattr(client, endpoint.method)
    if endpoint.query:
        path = f"{path}?{endpoint.query.format(**ids)}"
    if endpoint.method in {"post", "put", "patch"}:
        body = {
            name: value.format(**ids) if isinstance(value, str) else value
            for name, value in (endpoint.body or {}).items()
        }
        return method(path, body, format="json")
    return method(path)


def _state(world: World) -> tuple[Any, ...]:
    """Everything a call could change (the audit log aside, which records refusals)."""
    endpoint = WebhookEndpoint.objects.filter(pk=world.endpoint.pk).values_list(
        "url", "description", "events", "is_active"
    )
    return (
        sorted(ApiKey.objects.values_list("pk", "revoked_at", "expires_at", "replaced_by")),
        sorted(WebhookEndpoint.objects.values_list("pk", flat=True)),
        list(endpoint),
        WebhookSecret.objects.count(),
        WebhookDelivery.objects.count(),
        Partner.objects.get(pk=world.partner.pk).status,
        sorted(
            MemberAccount.objects.values_list("partner_id", "member_number", "status", "updated_at")
        ),
        sorted(ConsentEvent.objects.values_list("pk", "hash")),
        sorted(ConsentState.objects.values_list("pk", "granted", "event_id")),
        sorted(WithdrawalNotice.objects.values_list("pk", "acknowledged_at")),
        sorted(DataSubjectRequest.objects.values_list("pk", "status")),
        sorted(Agreement.objects.values_list("pk", "status", "updated_at")),
        sorted(AgreementVersion.objects.values_list("pk", "status", "signed_at")),
        sorted(AgreementParty.objects.values_list("pk", "signed_at", "signed_by")),
        sorted(Enrollment.objects.values_list("pk", "status", "target_member_number")),
        sorted(EnrollmentBatch.objects.values_list("pk", "status", "enrolled")),
        sorted(OverlapVisibility.objects.values_list("owner_id", "viewer_id", "level")),
        ProvisionRecord.objects.count(),
        OverlapQuery.objects.count(),
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_permission_matrix(world: World, endpoint: Endpoint) -> None:
    """Every caller against this endpoint. The world is built once per endpoint and each
    caller runs in a savepoint rolled back after it, so no caller sees another's changes."""
    for caller in CALLERS:
        with transaction.atomic():
            _check_caller(world, endpoint, caller)
            transaction.set_rollback(True)
        cache.clear()  # rate-limit counters and anything cached about the rolled-back caller


def _check_caller(world: World, endpoint: Endpoint, caller: str) -> None:
    client = _client_for_caller(caller, world)
    before = _state(world)
    path = endpoint.path.format(**world.ids())

    response = _call(client, endpoint, path, world.ids())

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
    assert _state(world) == before, caller
    text = response.content.decode()
    for secret in world.secrets:
        assert secret not in text, f"{secret!r} leaked in a refusal to {caller}"
    if status == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="sanpo"', caller


def _missing_id_paths(endpoint: Endpoint) -> list[str]:
    ids = {
        "partner_id": "",
        "key_id": "",
        "endpoint_id": "",
        "member_number": "",
        "withdrawal_id": "",
        "request_id": "",
        "agreement_id": "",
        "number": "",
        "enrollment_id": "",
        "batch_id": "",
        "viewer_slug": "",
    }
    paths = []
    for missing in (str(uuid.uuid4()), "not-a-uuid", "1"):
        paths.append(endpoint.path.format(**dict.fromkeys(ids, missing)))
    return paths


OBJECT_ENDPOINTS = [e for e in ENDPOINTS if e.addresses_object]


@pytest.mark.parametrize("endpoint", OBJECT_ENDPOINTS, ids=[e.name for e in OBJECT_ENDPOINTS])
def test_another_partners_object_is_indistinguishable_from_a_missing_one(
    world: World, endpoint: Endpoint
) -> None:
    client = client_for(world.outsider_key)
    not_yours = _call(client, endpoint, endpoint.path.format(**world.ids()), world.ids())
    assert not_yours.status_code == 404
    for path in _missing_id_paths(endpoint):
        missing = _call(client, endpoint, path, world.ids())
        assert missing.status_code == 404, path
        assert missing.content == not_yours.content, path
    # The partner itself, asking for a missing id, gets the very same answer too.
    for path in _missing_id_paths(endpoint):
        owner = _call(client_for(world.owner_key), endpoint, path, world.ids())
        assert owner.content == not_yours.content


def _views(patterns: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
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


def test_the_matrix_covers_every_route_and_method() -> None:
    from config.urls import urlpatterns

    covered = {
        (re.sub(r"\{[^}]+\}", "<>", e.path.removeprefix("/api/v1/")), e.method) for e in ENDPOINTS
    }
    routes = set()
    api_root = [
        p for p in urlpatterns if isinstance(p, URLResolver) and str(p.pattern) == "api/v1/"
    ]
    assert len(api_root) == 3  # partners, consent, federation
    for raw_route, view in _views(api_root):
        route = re.sub(r"<[^>]+>", "<>", raw_route.removeprefix("api/v1/"))
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view, method):
                routes.add((route, method))
    assert len(routes) == len(ENDPOINTS)
    assert routes == covered


# --- Lists return only the caller's own objects ------------------------------------------------


def _ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


def test_partner_list_shows_only_the_caller(world: World, host: Partner) -> None:
    assert _ids(client_for(world.outsider_key).get("/api/v1/partners")) == {str(world.outsider.pk)}
    assert _ids(client_for(world.owner_key).get("/api/v1/partners")) == {str(world.partner.pk)}


def test_api_key_list_shows_only_the_callers_keys(world: World) -> None:
    partner_keys = {
        str(pk) for pk in ApiKey.objects.filter(partner=world.partner).values_list("pk", flat=True)
    }
    outsider_keys = {
        str(pk) for pk in ApiKey.objects.filter(partner=world.outsider).values_list("pk", flat=True)
    }
    assert len(partner_keys) == 3  # owner, read-only and target keys
    assert _ids(client_for(world.owner_key).get("/api/v1/api-keys")) == partner_keys
    response = client_for(world.outsider_key).get("/api/v1/api-keys")
    assert _ids(response) == outsider_keys
    for secret in world.secrets:
        assert secret not in response.content.decode()


def test_webhook_list_shows_only_the_callers_endpoints(world: World) -> None:
    assert _ids(client_for(world.owner_key).get("/api/v1/webhook-endpoints")) == {
        str(world.endpoint.pk)
    }
    response = client_for(world.outsider_key).get("/api/v1/webhook-endpoints")
    assert _ids(response) == {str(world.outsider_endpoint.pk)}
    assert HOOK_URL not in response.content.decode()


def test_delivery_list_shows_only_the_endpoints_deliveries(world: World) -> None:
    path = f"/api/v1/webhook-endpoints/{world.endpoint.pk}/deliveries"
    assert _ids(client_for(world.owner_key).get(path)) == {str(world.delivery.pk)}
    outsider_path = f"/api/v1/webhook-endpoints/{world.outsider_endpoint.pk}/deliveries"
    assert _ids(client_for(world.outsider_key).get(outsider_path)) == set()


def test_a_key_created_by_another_partner_lands_with_that_partner(world: World) -> None:
    response = client_for(world.outsider_key).post(
        "/api/v1/api-keys", {"name": "mine", "scopes": ["read"]}, format="json"
    )
    assert response.status_code == 201
    created = ApiKey.objects.get(pk=response.json()["id"])
    assert created.partner == world.outsider
    assert str(created.pk) not in _ids(client_for(world.owner_key).get("/api/v1/api-keys"))


def test_me_names_the_callers_partner_and_key(world: World) -> None:
    body = client_for(world.outsider_key).get("/api/v1/me").json()
    assert body["partner"]["id"] == str(world.outsider.pk)
    assert body["api_key"]["id"] == str(world.outsider_key.api_key.pk)
    assert "key" not in body["api_key"]
    assert world.outsider_key.plaintext not in json.dumps(body)


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer    ",
        "Token sanpo_abc",
        "sanpo_only_the_key",
        "Bearer sanpo_short_key",
        "Bearer not-a-sanpo-key",
        "Bearer sanpo_0123456789_" + "a" * 38,
    ],
)
def test_malformed_authorization_headers_are_refused(world: World, header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_a_well_formed_key_that_was_never_issued_is_refused(world: World) -> None:
    from partners.keys import generate_key

    response = client_for(generate_key().plaintext).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


# --- Suspension takes effect on the very next request ------------------------------------------


def test_suspending_a_partner_stops_its_keys_at_once_and_resuming_restores_them(
    world: World, alliance_manager: Any
) -> None:
    client = client_for(world.owner_key)
    assert client.get("/api/v1/me").status_code == 200

    services.partner_suspend(partner=world.partner, actor=Actor(user=alliance_manager))
    for path in ("/api/v1/me", "/api/v1/api-keys", "/api/v1/webhook-endpoints"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "partner_suspended"
    refused = client.post("/api/v1/api-keys", {"name": "x", "scopes": ["read"]}, format="json")
    assert refused.status_code == 403
    assert not ApiKey.objects.filter(name="x").exists()
    # Another partner is unaffected.
    assert client_for(world.outsider_key).get("/api/v1/me").status_code == 200

    services.partner_resume(partner=world.partner, actor=Actor(user=alliance_manager))
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/api-keys").status_code == 200


def test_an_offboarded_partners_keys_are_refused(world: World, alliance_manager: Any) -> None:
    services.partner_offboard(partner=world.partner, actor=Actor(user=alliance_manager))
    response = client_for(world.owner_key).get("/api/v1/me")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "partner_suspended"


def test_a_third_partner_suspended_does_not_affect_others(world: World) -> None:
    third = make_partner("third-co")
    third_key = issue_key(third)
    services.partner_suspend(partner=third, actor=Actor.system())
    assert client_for(third_key.plaintext).get("/api/v1/me").status_code == 403
    assert client_for(world.owner_key).get("/api/v1/me").status_code == 200
