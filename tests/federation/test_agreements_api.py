"""The agreements API: a party reads its agreements and the versions that name it, compares two
of them and signs a proposal; nobody else learns that they exist."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from federation import services
from federation.audit import FederationAuditAction
from federation.models import Agreement, AgreementParty, AgreementVersion
from partners import services as partner_services
from partners.actors import Actor
from partners.models import ApiScope, AuditEvent, IdempotencyKey, Partner, WebhookDelivery
from tests.conftest import Key, client_for
from tests.factories import issue_key, make_parties, make_partner

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
HOOK_URL = "http://127.0.0.1:9/agreements"  # loopback is allowed in tests; nothing listens
TODAY = timezone.localdate()
SIGNATORY = {"signed_by": "山田 太郎 (代表取締役)"}


def _terms(*parties: Partner, min_cell: int = 50) -> dict[str, Any]:
    host, *brands = parties
    return {
        "data_flows": [
            {
                "provider": host.slug,
                "recipient": brand.slug,
                "purpose": "cross_enrollment",
                "fields": ["name", "email", "age_band"],
            }
            for brand in brands
        ],
        "overlap": {"min_cell": min_cell},
    }


def _propose(*parties: Partner, title: str = "Host and Brand co-marketing") -> Agreement:
    """A new agreement between ``parties`` (the host first), version 1 proposed."""
    agreement = services.agreement_create(
        title=title,
        host=parties[0],
        parties=make_parties(*parties),
        terms=_terms(*parties),
        effective_from=TODAY,
        valid_until=TODAY + timedelta(days=365),
        actor=SYSTEM,
    )
    services.version_propose(version=agreement.versions.get(number=1), actor=SYSTEM)
    return agreement


def _sign_all(version: AgreementVersion) -> None:
    for party in version.parties.select_related("partner"):
        services.version_sign(
            version=version, partner=party.partner, signed_by="Signatory", actor=SYSTEM
        )


def _amend(agreement: Agreement, *parties: Partner, propose: bool = True) -> AgreementVersion:
    version = services.version_draft(
        agreement=agreement,
        parties=make_parties(*parties),
        terms=_terms(*parties, min_cell=100),
        effective_from=TODAY,
        valid_until=TODAY + timedelta(days=730),
        summary="Larger overlap cells.",
        actor=SYSTEM,
    )
    if propose:
        services.version_propose(version=version, actor=SYSTEM)
    return version


def _url(agreement: Agreement | str, *rest: Any) -> str:
    agreement_id = agreement.pk if isinstance(agreement, Agreement) else agreement
    return "/".join([f"/api/v1/agreements/{agreement_id}", *map(str, rest)])


def _sign(
    key: Key | str, agreement: Agreement | str, number: int, body: Any = None, **extra: Any
) -> Any:
    return client_for(key).post(
        _url(agreement, "versions", number, "sign"),
        SIGNATORY if body is None else body,
        format="json",
        **extra,
    )


def _list_ids(key: Key, query: str = "") -> list[str]:
    response = client_for(key).get(f"/api/v1/agreements{query}")
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def _signatures() -> tuple[Any, ...]:
    """Every signature, and the audit events and webhooks signing writes."""
    return (
        sorted(AgreementParty.objects.values_list("pk", "signed_at", "signed_by")),
        AuditEvent.objects.filter(action=FederationAuditAction.AGREEMENT_SIGNED).count(),
        WebhookDelivery.objects.count(),
    )


@pytest.fixture
def agreement(host: Partner, partner: Partner) -> Agreement:
    return _propose(host, partner)


# --- Who sees what -----------------------------------------------------------------------------


def test_the_parties_list_their_agreement_and_nobody_else_does(
    agreement: Agreement, host_key: Key, partner_key: Key, outsider_key: Key
) -> None:
    response = client_for(partner_key).get("/api/v1/agreements")

    assert response.status_code == 200
    (item,) = response.json()["results"]
    assert item == {
        "id": str(agreement.pk),
        "title": "Host and Brand co-marketing",
        "status": "proposed",
        "status_reason": "",
        "host": "host-co",
        "version_in_force": None,
        "awaiting_your_signature": 1,
        "created_at": item["created_at"],
    }
    assert _list_ids(host_key) == [str(agreement.pk)]
    assert _list_ids(outsider_key) == []


def test_an_agreement_whose_only_version_is_a_draft_is_seen_by_nobody(
    host: Partner, partner: Partner, host_key: Key, partner_key: Key
) -> None:
    draft = services.agreement_create(
        title="Not yet",
        host=host,
        parties=make_parties(host, partner),
        terms=_terms(host, partner),
        effective_from=TODAY,
        valid_until=TODAY + timedelta(days=30),
        actor=SYSTEM,
    )

    assert _list_ids(partner_key) == _list_ids(host_key) == []
    for path in (_url(draft), _url(draft, "versions", 1)):
        assert client_for(partner_key).get(path).status_code == 404


def test_the_list_filters_by_status_and_refuses_an_unknown_one(
    agreement: Agreement, host: Partner, partner: Partner, partner_key: Key
) -> None:
    other = _propose(host, partner, title="Second")
    _sign_all(other.versions.get(number=1))

    assert _list_ids(partner_key) == [str(other.pk), str(agreement.pk)]  # newest first
    assert _list_ids(partner_key, "?status=active") == [str(other.pk)]
    assert _list_ids(partner_key, "?status=proposed") == [str(agreement.pk)]
    assert _list_ids(partner_key, "?status=terminated") == []
    refused = client_for(partner_key).get("/api/v1/agreements?status=happy")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "validation_failed"
    assert set(refused.json()["error"]["fields"]) == {"status"}


def test_the_list_pages_with_a_cursor(host: Partner, partner: Partner, partner_key: Key) -> None:
    created = [str(_propose(host, partner, title=f"Agreement {n}").pk) for n in range(3)]
    client = client_for(partner_key)

    first = client.get("/api/v1/agreements?limit=2").json()
    second = client.get(first["next"]).json()

    assert [item["id"] for item in first["results"] + second["results"]] == created[::-1]
    assert second["next"] is None
    # "²".isdigit() is true, yet int() refuses it; a full-width one is no ASCII digit.
    for limit in ("201", "0", "x", "²", "\uff11"):
        refused = client.get(f"/api/v1/agreements?limit={limit}")
        assert refused.status_code == 400, limit
        assert refused.json()["error"]["code"] == "validation_failed"


def test_the_list_costs_the_same_queries_for_one_agreement_or_many(
    host: Partner, partner: Partner, partner_key: Key
) -> None:
    client = client_for(partner_key)
    _sign_all(_propose(host, partner).versions.get(number=1))
    client.get("/api/v1/agreements")  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/v1/agreements").status_code == 200
    for n in range(4):
        agreement = _propose(host, partner, title=f"More {n}")
        _sign_all(agreement.versions.get(number=1))
        _amend(agreement, host, partner)
    with CaptureQueriesContext(connection) as five:
        response = client.get("/api/v1/agreements")

    assert len(response.json()["results"]) == 5
    assert len(five) == len(one)


def test_the_detail_summarises_the_versions_the_caller_can_read(
    agreement: Agreement, host: Partner, partner: Partner, partner_key: Key
) -> None:
    _sign_all(agreement.versions.get(number=1))
    _amend(agreement, host, partner)

    body = client_for(partner_key).get(_url(agreement)).json()

    assert body["status"] == "active"
    assert body["version_in_force"] == 1
    assert body["awaiting_your_signature"] == 2
    assert [(v["number"], v["status"]) for v in body["versions"]] == [
        (1, "signed"),
        (2, "proposed"),
    ]
    assert body["versions"][1]["summary"] == "Larger overlap cells."
    assert body["versions"][1]["valid_until"] == (TODAY + timedelta(days=730)).isoformat()
    assert set(body["versions"][0]) == {
        "number",
        "status",
        "effective_from",
        "valid_until",
        "summary",
        "proposed_at",
        "signed_at",
    }


def test_a_version_shows_its_terms_parties_contacts_and_signatures(
    agreement: Agreement, host: Partner, host_key: Key, partner_key: Key
) -> None:
    assert _sign(host_key, agreement, 1).status_code == 200

    response = client_for(partner_key).get(_url(agreement, "versions", 1))

    assert response.status_code == 200
    body = response.json()
    version = agreement.versions.get(number=1)
    assert body["agreement_id"] == str(agreement.pk)
    assert body["status"] == "proposed"
    assert body["terms"] == version.terms
    assert body["terms_sha256"] == version.terms_sha256
    assert body["effective_from"] == TODAY.isoformat()
    brand_party, host_party = body["parties"]  # by slug
    assert host_party["slug"] == "host-co"
    assert host_party["name_latin"] == host.name_latin
    assert host_party["contact_name"] == "Contact of host-co"
    assert host_party["contact_email"] == "alliance@host-co.example"
    assert host_party["signed_at"] is not None
    assert host_party["signed_by"].startswith("山田 太郎 (代表取締役)")
    assert brand_party["slug"] == "brand-co"
    assert (brand_party["signed_at"], brand_party["signed_by"]) == (None, "")


def test_an_outsider_gets_exactly_what_a_missing_id_gets(
    agreement: Agreement, outsider_key: Key
) -> None:
    client = client_for(outsider_key)
    missing = str(uuid.uuid4())
    for rest in ((), ("versions", 1), ("versions", 1, "diff?against=1")):
        not_yours = client.get(_url(agreement, *rest))
        assert not_yours.status_code == 404
        assert not_yours.json()["error"]["code"] == "not_found"
        for other in (missing, "not-a-uuid"):
            assert client.get(_url(other, *rest)).content == not_yours.content
    not_yours = _sign(outsider_key, agreement, 1)
    assert not_yours.status_code == 404
    assert _sign(outsider_key, missing, 1).content == not_yours.content
    assert agreement.title not in not_yours.content.decode()
    # Nothing written: no signature, no audit event, no webhook.
    assert not AgreementParty.objects.filter(signed_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action=FederationAuditAction.AGREEMENT_SIGNED).exists()
    assert not WebhookDelivery.objects.filter(event_type="agreement.signed").exists()


def test_a_draft_version_answers_like_a_missing_one(
    agreement: Agreement, host: Partner, partner: Partner, partner_key: Key, host_key: Key
) -> None:
    _sign_all(agreement.versions.get(number=1))
    _amend(agreement, host, partner, propose=False)
    client = client_for(partner_key)

    draft = client.get(_url(agreement, "versions", 2))
    assert draft.status_code == 404
    for number in (3, 99, "x", "-1", "\uff11", "9" * 12):  # \uff11: a full-width 1
        assert client.get(_url(agreement, "versions", number)).content == draft.content
    assert client.get(_url(agreement, "versions", 1, "diff?against=2")).content == draft.content
    assert client.get(_url(agreement, "versions", 2, "diff?against=1")).content == draft.content
    assert _sign(partner_key, agreement, 2).content == draft.content
    assert _sign(host_key, agreement, 2).status_code == 404  # the host signs no draft either
    assert [v["number"] for v in client.get(_url(agreement)).json()["versions"]] == [1]
    assert AgreementParty.objects.filter(version__number=2, signed_at__isnull=False).count() == 0


def test_a_draft_withdrawn_before_it_was_proposed_stays_invisible(
    agreement: Agreement, host: Partner, partner: Partner, partner_key: Key, alliance_manager: Any
) -> None:
    _sign_all(agreement.versions.get(number=1))
    _amend(agreement, host, partner, propose=False)
    services.agreement_terminate(
        agreement=agreement, reason="Ended early.", actor=Actor(user=alliance_manager)
    )
    assert agreement.versions.get(number=2).status == AgreementVersion.Status.WITHDRAWN

    body = client_for(partner_key).get(_url(agreement)).json()

    assert (body["status"], body["status_reason"]) == ("terminated", "Ended early.")
    assert body["version_in_force"] is None  # nothing is in force in an ended agreement
    assert [v["number"] for v in body["versions"]] == [1]
    assert client_for(partner_key).get(_url(agreement, "versions", 2)).status_code == 404


# --- Signing ------------------------------------------------------------------------------------


def test_both_parties_sign_and_the_agreement_becomes_active_and_every_party_is_told(
    agreement: Agreement, host: Partner, partner: Partner, host_key: Key, partner_key: Key
) -> None:
    for company in (host, partner):
        partner_services.webhook_endpoint_create(
            partner=company,
            url=HOOK_URL,
            events=["agreement.signed", "agreement.version_signed"],
            actor=SYSTEM,
        )

    first = _sign(partner_key, agreement, 1)

    assert first.status_code == 200, first.content
    assert first.json()["status"] == "proposed"
    brand_party = next(p for p in first.json()["parties"] if p["slug"] == "brand-co")
    assert brand_party["signed_by"] == "山田 太郎 (代表取締役) (through the API)"
    assert "sanpo_" not in str(brand_party)  # no party learns another's key
    partner_view = client_for(partner_key).get(_url(agreement)).json()
    assert (partner_view["status"], partner_view["awaiting_your_signature"]) == ("proposed", None)
    assert client_for(host_key).get(_url(agreement)).json()["awaiting_your_signature"] == 1

    second = _sign(host_key, agreement, 1)

    assert second.status_code == 200, second.content
    assert second.json()["status"] == "signed"
    assert second.json()["signed_at"] is not None
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.ACTIVE
    for key in (host_key, partner_key):
        body = client_for(key).get(_url(agreement)).json()
        assert (body["status"], body["version_in_force"], body["awaiting_your_signature"]) == (
            "active",
            1,
            None,
        )
    signed = WebhookDelivery.objects.filter(event_type="agreement.signed")
    assert sorted(
        (d.endpoint.partner.slug, d.payload["data"]["signed_by_party"]) for d in signed
    ) == [
        ("brand-co", "brand-co"),
        ("brand-co", "host-co"),
        ("host-co", "brand-co"),
        ("host-co", "host-co"),
    ]
    audit = AuditEvent.objects.filter(action=FederationAuditAction.AGREEMENT_SIGNED)
    assert {(e.partner_id, e.actor_api_key_id) for e in audit} == {
        (partner.pk, partner_key.api_key.pk),
        (host.pk, host_key.api_key.pk),
    }
    in_force = WebhookDelivery.objects.filter(event_type="agreement.version_signed")
    assert sorted(d.endpoint.partner.slug for d in in_force) == ["brand-co", "host-co"]
    assert {d.payload["data"]["agreement_id"] for d in in_force} == {str(agreement.pk)}
    assert {d.payload["data"]["version"] for d in in_force} == {1}


def test_signing_twice_answers_200_and_changes_nothing(
    agreement: Agreement, partner_key: Key
) -> None:
    assert _sign(partner_key, agreement, 1).status_code == 200
    before = _signatures()

    again = _sign(partner_key, agreement, 1, {"signed_by": "Someone Else"})

    assert again.status_code == 200
    assert _signatures() == before
    assert "Someone Else" not in again.content.decode()


def test_a_retry_with_the_same_idempotency_key_replays_the_first_answer(
    agreement: Agreement, partner_key: Key
) -> None:
    first = _sign(partner_key, agreement, 1, HTTP_IDEMPOTENCY_KEY="sign-v1")
    signed = _signatures()

    again = _sign(partner_key, agreement, 1, HTTP_IDEMPOTENCY_KEY="sign-v1")

    assert again.status_code == first.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    # The parties' contacts are encrypted at rest, so they are never kept for a replay.
    assert again.json() == {k: v for k, v in first.json().items() if k != "parties"}
    stored = IdempotencyKey.objects.get(key="sign-v1").response_body
    assert "alliance@host-co.example" not in str(stored)
    assert _signatures() == signed
    other_body = _sign(
        partner_key, agreement, 1, {"signed_by": "Another"}, HTTP_IDEMPOTENCY_KEY="sign-v1"
    )
    assert other_body.status_code == 422
    assert other_body.json()["error"]["code"] == "idempotency_key_reused"


def test_a_read_only_key_cannot_sign(
    agreement: Agreement, partner: Partner, partner_read_key: Key
) -> None:
    before = _signatures()

    response = _sign(partner_read_key, agreement, 1)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    assert _signatures() == before
    write_key = issue_key(partner, scopes=(ApiScope.READ, ApiScope.WRITE))
    assert _sign(write_key.plaintext, agreement, 1).status_code == 403  # admin scope only


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"signed_by": ""}, "signed_by"),
        ({"signed_by": "   "}, "signed_by"),
        ({}, "signed_by"),
        ({"signed_by": "x" * 121}, "signed_by"),
        ({"signed_by": "Taro", "signed_at": "2020-01-01T00:00:00Z"}, "signed_at"),
    ],
)
def test_a_bad_signature_is_refused_and_writes_nothing(
    agreement: Agreement, partner_key: Key, body: dict[str, Any], field: str
) -> None:
    before = _signatures()

    response = _sign(partner_key, agreement, 1, body, HTTP_IDEMPOTENCY_KEY="sign-1")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert field in response.json()["error"]["fields"]
    assert _signatures() == before
    # The refused request released its key: corrected, it goes through.
    assert _sign(partner_key, agreement, 1, HTTP_IDEMPOTENCY_KEY="sign-1").status_code == 200


def test_a_version_no_longer_awaiting_signatures_is_a_conflict(
    agreement: Agreement, partner_key: Key, host_key: Key, alliance_manager: Any
) -> None:
    assert _sign(host_key, agreement, 1).status_code == 200
    services.version_withdraw(
        version=agreement.versions.get(number=1), actor=Actor(user=alliance_manager)
    )
    before = _signatures()

    response = _sign(partner_key, agreement, 1)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert _signatures() == before
    # Still readable (it was put to the parties), and the host's signature lapsed with it.
    body = client_for(partner_key).get(_url(agreement, "versions", 1)).json()
    assert body["status"] == "withdrawn"
    assert client_for(partner_key).get(_url(agreement)).json()["awaiting_your_signature"] is None


# --- Companies joining and leaving --------------------------------------------------------------


def test_a_brand_added_in_version_2_sees_and_signs_only_version_2(
    agreement: Agreement, host: Partner, partner: Partner, host_key: Key, partner_key: Key
) -> None:
    """Version 1 is a contract between the host and the first brand: its terms and contacts
    are theirs. The newcomer sees the agreement, version 2 and nothing in force for it until
    version 2 is signed by everyone."""
    late = make_partner("late-co")
    late_key = issue_key(late)
    _sign_all(agreement.versions.get(number=1))
    _amend(agreement, host, partner, late)
    client = client_for(late_key.plaintext)

    body = client.get(_url(agreement)).json()
    assert body["status"] == "active"
    assert (body["version_in_force"], body["awaiting_your_signature"]) == (None, 2)
    assert [v["number"] for v in body["versions"]] == [2]
    hidden = client.get(_url(agreement, "versions", 1))
    assert hidden.status_code == 404
    assert client.get(_url(agreement, "versions", 99)).content == hidden.content
    assert client.get(_url(agreement, "versions", 2, "diff?against=1")).content == hidden.content
    assert _sign(late_key.plaintext, agreement, 1).content == hidden.content
    # The parties to both versions still see both.
    assert client_for(partner_key).get(_url(agreement)).json()["version_in_force"] == 1
    assert client_for(partner_key).get(_url(agreement, "versions", 2)).status_code == 200

    for key in (late_key.plaintext, host_key, partner_key):
        assert _sign(key, agreement, 2).status_code == 200

    for key in (late_key.plaintext, host_key, partner_key):
        body = client_for(key).get(_url(agreement)).json()
        assert (body["version_in_force"], body["awaiting_your_signature"]) == (2, None)
    assert client.get(_url(agreement, "versions", 1)).status_code == 404


def test_a_brand_left_out_of_version_2_keeps_its_history_but_not_the_new_terms(
    host: Partner, partner: Partner
) -> None:
    leaving = make_partner("leaving-co")
    leaving_key = issue_key(leaving).plaintext
    agreement = _propose(host, partner, leaving)
    _sign_all(agreement.versions.get(number=1))
    _amend(agreement, host, partner)
    client = client_for(leaving_key)

    assert client.get(_url(agreement)).json()["awaiting_your_signature"] is None
    assert client.get(_url(agreement, "versions", 1)).status_code == 200
    assert client.get(_url(agreement, "versions", 2)).status_code == 404
    assert _sign(leaving_key, agreement, 2).status_code == 404

    _sign_all(agreement.versions.get(number=2))

    body = client.get(_url(agreement)).json()
    assert body["status"] == "active"
    assert body["version_in_force"] is None  # version 2 binds the others, not this brand
    assert [v["number"] for v in body["versions"]] == [1]


# --- Comparing versions -------------------------------------------------------------------------


def test_the_diff_shows_what_changed_between_two_versions(
    agreement: Agreement, host: Partner, partner: Partner, partner_key: Key
) -> None:
    _sign_all(agreement.versions.get(number=1))
    _amend(agreement, host, partner)
    client = client_for(partner_key)

    response = client.get(_url(agreement, "versions", 2, "diff?against=1"))

    assert response.status_code == 200, response.content
    changes = {c["path"]: (c["old"], c["new"]) for c in response.json()["results"]}
    assert changes == {
        "terms.overlap.min_cell": (50, 100),
        "valid_until": (
            (TODAY + timedelta(days=365)).isoformat(),
            (TODAY + timedelta(days=730)).isoformat(),
        ),
    }
    backwards = client.get(_url(agreement, "versions", 1, "diff?against=2")).json()["results"]
    assert {c["path"]: (c["new"], c["old"]) for c in backwards} == changes
    assert client.get(_url(agreement, "versions", 1, "diff?against=1")).json() == {"results": []}


@pytest.mark.parametrize("query", ["", "?against=", "?against=two", "?against=0"])
def test_the_diff_needs_a_version_to_compare_with(
    agreement: Agreement, partner_key: Key, query: str
) -> None:
    response = client_for(partner_key).get(_url(agreement, "versions", 1, f"diff{query}"))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert set(response.json()["error"]["fields"]) == {"against"}
