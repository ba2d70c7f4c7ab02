"""Who may call what in the consent API: its permission matrix (the machinery is shared,
``tests.permission_matrix``)."""

from datetime import UTC, datetime
from typing import Any

import pytest

from consent import urls as consent_urls
from consent.models import (
    ConsentEvent,
    ConsentState,
    DataSubjectRequest,
    ProvisionRecord,
    WithdrawalNotice,
)
from consent.services import consent_withdraw, data_request_submit
from partners.actors import Actor
from partners.models import Partner
from tests.conftest import Key
from tests.factories import grant_consent, make_notice
from tests.permission_matrix import (
    IDENTITY,
    Endpoint,
    World,
    base_world,
    check_every_caller,
    check_indistinguishable,
    routes_covered,
    routes_of,
)

CONSENT = {"purpose": "cross_enrollment", "recipient": "brand-co", "channel": "partner_app"}
GIVEN_AT = datetime(2026, 1, 4, 10, 0, tzinfo=UTC)  # before the bodies' times below

ENDPOINTS = [
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
]


def consent_state() -> tuple[Any, ...]:
    return (
        sorted(ConsentEvent.objects.values_list("pk", "hash")),
        sorted(ConsentState.objects.values_list("pk", "granted", "event_id")),
        sorted(WithdrawalNotice.objects.values_list("pk", "acknowledged_at")),
        sorted(DataSubjectRequest.objects.values_list("pk", "status")),
        ProvisionRecord.objects.count(),
    )


@pytest.fixture
def world(
    host: Partner,
    partner: Partner,
    outsider: Partner,
    partner_key: Key,
    partner_read_key: Key,
    outsider_key: Key,
) -> World:
    """The partner's member has an access request open, consents to cross-enrollment with the
    partner (so a withdrawal has something to withdraw), and withdrew co-marketing contact, so
    the partner has a withdrawal to acknowledge."""
    world = base_world(host, partner, outsider, partner_key, partner_read_key, outsider_key)
    member = world.member
    data_request, _ = data_request_submit(
        member=member, kind="access", identity=IDENTITY, received_via=partner, actor=Actor.system()
    )
    notice = make_notice(
        purposes=["cross_enrollment", "co_marketing_contact"],
        recipients=[partner],
        data_items=["name", "email"],
        effective_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    grant_consent(
        member,
        partner,
        "cross_enrollment",
        "co_marketing_contact",
        channel="partner_app",
        occurred_at=GIVEN_AT,
    )
    consent_withdraw(
        member=member,
        purpose_code="co_marketing_contact",
        recipient=partner,
        channel="partner_app",
        occurred_at=GIVEN_AT,
        actor=Actor.system(),
    )
    withdrawal = WithdrawalNotice.objects.get(recipient=partner)
    world.ids |= {
        "notice_id": str(notice.pk),
        "withdrawal_id": str(withdrawal.event_id),
        "request_id": str(data_request.pk),
    }
    world.secrets.append(str(data_request.pk))
    world.states.append(consent_state)
    return world


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_permission_matrix(world: World, endpoint: Endpoint) -> None:
    check_every_caller(world, endpoint)


OBJECT_ENDPOINTS = [e for e in ENDPOINTS if e.addresses_object]


@pytest.mark.parametrize("endpoint", OBJECT_ENDPOINTS, ids=[e.name for e in OBJECT_ENDPOINTS])
def test_another_partners_object_is_indistinguishable_from_a_missing_one(
    world: World, endpoint: Endpoint
) -> None:
    check_indistinguishable(world, endpoint)


def test_the_matrix_covers_every_route_and_method() -> None:
    assert routes_of(consent_urls) == routes_covered(ENDPOINTS)
