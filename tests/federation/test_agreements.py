"""Agreements: terms are validated and versioned, take effect only once every party signed and
on their date, stop at once when suspended, and ``terms_in_force`` is the one answer to what
they allow between two companies for a purpose on a day."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from federation import services
from federation.agreements.selectors import (
    agreement_list,
    terms_in_force,
    version_diff,
    version_in_force,
)
from federation.models import Agreement, AgreementVersion
from partners import services as partner_services
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import AuditEvent, Partner, WebhookDelivery
from tests.factories import make_agreement, make_parties

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
HOOK_URL = "http://127.0.0.1:9/agreements"  # loopback is allowed in tests; nothing listens


def _terms(host: Partner, brand: Partner, **changes: Any) -> dict[str, Any]:
    terms: dict[str, Any] = {
        "data_flows": [
            {
                "provider": host.slug,
                "recipient": brand.slug,
                "purpose": "cross_enrollment",
                "fields": ["name", "email", "age_band"],
                "legal_basis": "consent",
            },
            {
                "provider": host.slug,
                "recipient": brand.slug,
                "purpose": "research_survey",
                "fields": ["age_band", "prefecture"],
                "legal_basis": "joint_use",
                "joint_use": {
                    "data_items": "年代、都道府県",
                    "users_scope": "本契約の当事者",
                    "purpose_of_use": "商品の共同調査",
                    "responsible_name": "Host Co",
                    "responsible_address": "東京都千代田区1-1",
                    "responsible_representative": "代表取締役 架空 太郎",
                },
            },
        ],
        "coin": {
            "exchange": True,
            "programs": {
                host.slug: {"yen_per_coin": "1.00", "rate_to_shared": "1"},
                brand.slug: {"yen_per_coin": "0.5", "rate_to_shared": "0.5"},
            },
        },
        "referral": {"fee_yen": "500", "fee_percent": None, "attribution_days": 30},
        "overlap": {"min_cell": 50},
    }
    terms.update(changes)
    return terms


TODAY = timezone.localdate()


def _agreement(host: Partner, brand: Partner, **options: Any) -> Agreement:
    """A draft of the host and the brand, on ``_terms`` unless told otherwise."""
    options.setdefault("terms", _terms(host, brand))
    return make_agreement(
        host, brand, title="Kirari and Brand co-marketing", state="draft", **options
    )


def _sign_all(version: AgreementVersion, *partners: Partner) -> AgreementVersion:
    for partner in partners:
        version = services.version_sign(
            version=version, partner=partner, signed_by=f"CEO of {partner.slug}", actor=SYSTEM
        )
    return version


@pytest.fixture
def active(host: Partner, partner: Partner) -> Agreement:
    agreement = _agreement(host, partner)
    version = services.version_propose(version=agreement.versions.get(), actor=SYSTEM)
    _sign_all(version, host, partner)
    agreement.refresh_from_db()
    return agreement


def test_terms_take_effect_only_once_every_party_signed(host: Partner, partner: Partner) -> None:
    for who in (host, partner):
        partner_services.webhook_endpoint_create(
            partner=who,
            url=HOOK_URL,
            events=["agreement.proposed", "agreement.signed", "agreement.version_signed"],
            actor=SYSTEM,
        )
    agreement = _agreement(host, partner)
    version = agreement.versions.get()
    assert terms_in_force(provider=host, recipient=partner, purpose="cross_enrollment") is None

    version = services.version_propose(version=version, actor=SYSTEM)
    services.version_sign(version=version, partner=host, signed_by="Host CEO", actor=SYSTEM)
    assert terms_in_force(provider=host, recipient=partner, purpose="cross_enrollment") is None
    assert Agreement.objects.get().status == Agreement.Status.PROPOSED

    services.version_sign(version=version, partner=partner, signed_by="Brand CEO", actor=SYSTEM)

    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.ACTIVE
    terms = terms_in_force(provider=host, recipient=partner, purpose="cross_enrollment")
    assert terms is not None
    assert terms.fields == ("age_band", "email", "name")
    assert terms.legal_basis == "consent"
    assert terms.referral == {"fee_yen": "500", "fee_percent": None, "attribution_days": 30}
    research = terms_in_force(provider=host, recipient=partner, purpose="research_survey")
    assert research is not None
    assert research.legal_basis == "joint_use"
    assert research.joint_use is not None
    assert research.joint_use["responsible_name"] == "Host Co"
    # Nothing flows the other way, or for a purpose the agreement does not name.
    assert terms_in_force(provider=partner, recipient=host, purpose="cross_enrollment") is None
    assert terms_in_force(provider=host, recipient=partner, purpose="sampling_shipment") is None
    events = sorted(WebhookDelivery.objects.values_list("event_type", flat=True))
    assert events.count("agreement.proposed") == 2  # one per party
    assert events.count("agreement.signed") == 4  # each signature, to both parties
    assert events.count("agreement.version_signed") == 2


STATE_EVENTS = [
    "agreement.proposed",
    "agreement.withdrawn",
    "agreement.suspended",
    "agreement.resumed",
    "agreement.terminated",
    "agreement.expired",
]


def _listen(*partners: Partner) -> None:
    for who in partners:
        partner_services.webhook_endpoint_create(
            partner=who, url=HOOK_URL, events=STATE_EVENTS, actor=SYSTEM
        )


def _told() -> list[tuple[str, str]]:
    deliveries = WebhookDelivery.objects.select_related("endpoint__partner")
    return sorted((d.event_type, d.endpoint.partner.slug) for d in deliveries)


def _amendment_adding(
    agreement: Agreement, host: Partner, brand: Partner, newcomer: Partner
) -> AgreementVersion:
    terms = _terms(host, brand)
    terms["data_flows"].append(
        {
            "provider": host.slug,
            "recipient": newcomer.slug,
            "purpose": "cross_enrollment",
            "fields": ["name"],
            "legal_basis": "consent",
        }
    )
    return services.version_draft(
        agreement=agreement,
        parties=make_parties(host, brand, newcomer),
        terms=terms,
        effective_from=TODAY,
        valid_until=TODAY + timedelta(days=365),
        summary=f"{newcomer.slug} joins",
        actor=SYSTEM,
    )


def test_each_change_of_state_is_told_to_the_bound_parties_only(
    active: Agreement, host: Partner, partner: Partner, outsider: Partner
) -> None:
    _listen(host, partner, outsider)
    # Named in a draft only, the newcomer has not been asked anything yet.
    _amendment_adding(active, host, partner, outsider)

    services.agreement_suspend(agreement=active, reason="Complaint under review", actor=SYSTEM)
    services.agreement_resume(agreement=active, actor=SYSTEM)
    services.agreement_terminate(agreement=active, reason="Alliance ended", actor=SYSTEM)

    bound = (host.slug, partner.slug)
    assert _told() == sorted(
        (event, slug)
        for event in ("agreement.suspended", "agreement.resumed", "agreement.terminated")
        for slug in bound
    )
    suspended = WebhookDelivery.objects.get(
        endpoint__partner=partner, event_type="agreement.suspended"
    )
    assert suspended.payload["data"]["reason"] == "Complaint under review"
    assert suspended.payload["data"]["status"] == "suspended"


def test_a_company_an_amendment_drops_later_is_told_while_it_is_still_bound(
    active: Agreement, host: Partner, partner: Partner, outsider: Partner
) -> None:
    joined = services.version_propose(
        version=_amendment_adding(active, host, partner, outsider), actor=SYSTEM
    )
    _sign_all(joined, host, partner, outsider)
    # Signed, but from next month: until then version 2, with the outsider, is in force.
    leaves = services.version_draft(
        agreement=active,
        parties=make_parties(host, partner),
        terms=_terms(host, partner),
        effective_from=TODAY + timedelta(days=30),
        valid_until=TODAY + timedelta(days=365),
        actor=SYSTEM,
    )
    _sign_all(services.version_propose(version=leaves, actor=SYSTEM), host, partner)
    _listen(host, partner, outsider)

    services.agreement_suspend(agreement=active, reason="Audit", actor=SYSTEM)

    assert _told() == sorted(
        ("agreement.suspended", slug) for slug in (host.slug, partner.slug, outsider.slug)
    )


def test_a_company_asked_to_sign_hears_of_the_proposal_and_of_its_end(
    active: Agreement, host: Partner, partner: Partner, outsider: Partner
) -> None:
    _listen(host, partner, outsider)
    proposal = services.version_propose(
        version=_amendment_adding(active, host, partner, outsider), actor=SYSTEM
    )
    # While asked to sign, the newcomer hears of a suspension like the parties bound already.
    services.agreement_suspend(agreement=active, reason="Audit", actor=SYSTEM)
    services.agreement_resume(agreement=active, actor=SYSTEM)
    services.version_withdraw(version=proposal, actor=SYSTEM)
    # Withdrawn, the proposal no longer concerns the newcomer: the expiry is not its business.
    last_day = active.versions.get(number=1).valid_until
    assert services.agreements_expire(today=last_day + timedelta(days=1)) == 1

    everyone = (host.slug, partner.slug, outsider.slug)
    expected = [
        (event, slug)
        for event in (
            "agreement.proposed",
            "agreement.suspended",
            "agreement.resumed",
            "agreement.withdrawn",
        )
        for slug in everyone
    ]
    expected += [("agreement.expired", slug) for slug in (host.slug, partner.slug)]
    assert _told() == sorted(expected)


def test_each_party_sees_only_its_agreements(
    active: Agreement, host: Partner, partner: Partner, outsider: Partner
) -> None:
    assert list(agreement_list(principal=partner)) == [active]
    assert list(agreement_list(principal=host)) == [active]
    assert list(agreement_list(principal=outsider)) == []


def test_signing_twice_changes_nothing_and_a_stranger_cannot_sign(
    host: Partner, partner: Partner, outsider: Partner
) -> None:
    version = services.version_propose(
        version=_agreement(host, partner).versions.get(), actor=SYSTEM
    )
    services.version_sign(version=version, partner=host, signed_by="Host CEO", actor=SYSTEM)
    first = version.parties.get(partner=host).signed_at

    services.version_sign(version=version, partner=host, signed_by="Someone else", actor=SYSTEM)
    with pytest.raises(ApplicationError) as refused:
        services.version_sign(version=version, partner=outsider, signed_by="Eve", actor=SYSTEM)

    assert version.parties.get(partner=host).signed_at == first
    assert refused.value.code == ErrorCode.NOT_FOUND
    assert not version.parties.filter(partner=outsider).exists()


def test_a_suspended_agreement_allows_nothing_until_resumed(
    active: Agreement, host: Partner, partner: Partner
) -> None:
    services.agreement_suspend(agreement=active, reason="Data incident review", actor=SYSTEM)
    assert terms_in_force(provider=host, recipient=partner, purpose="cross_enrollment") is None

    services.agreement_resume(agreement=active, actor=SYSTEM)
    assert terms_in_force(provider=host, recipient=partner, purpose="cross_enrollment")

    services.agreement_terminate(agreement=active, reason="Partnership ended", actor=SYSTEM)
    assert terms_in_force(provider=host, recipient=partner, purpose="cross_enrollment") is None
    with pytest.raises(ApplicationError):
        services.agreement_resume(agreement=active, actor=SYSTEM)


def test_a_suspension_needs_a_reason(active: Agreement) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.agreement_suspend(agreement=active, reason="  ", actor=SYSTEM)
    assert refused.value.code == ErrorCode.VALIDATION_FAILED
    active.refresh_from_db()
    assert active.status == Agreement.Status.ACTIVE


def test_an_amendment_takes_effect_on_its_date_and_history_stays(
    active: Agreement, host: Partner, partner: Partner
) -> None:
    narrower = _terms(host, partner)
    narrower["data_flows"][0]["fields"] = ["age_band"]
    later = TODAY + timedelta(days=10)
    version = services.version_draft(
        agreement=active,
        parties=make_parties(host, partner),
        terms=narrower,
        effective_from=later,
        valid_until=TODAY + timedelta(days=400),
        summary="Only age bands from next week",
        actor=SYSTEM,
    )
    _sign_all(services.version_propose(version=version, actor=SYSTEM), host, partner)

    today = terms_in_force(provider=host, recipient=partner, purpose="cross_enrollment")
    then = terms_in_force(provider=host, recipient=partner, purpose="cross_enrollment", day=later)
    assert today is not None
    assert today.version.number == 1
    assert today.fields == ("age_band", "email", "name")
    assert then is not None
    assert then.version.number == 2
    assert then.fields == ("age_band",)
    changes = {path: (old, new) for path, old, new in version_diff(today.version, then.version)}
    assert changes["effective_from"] == (TODAY.isoformat(), later.isoformat())
    key = f"terms.data_flows.{host.slug}→{partner.slug}:cross_enrollment.fields"
    assert changes[key] == (["age_band", "email", "name"], ["age_band"])


def test_an_amendment_cannot_take_effect_in_the_past(
    active: Agreement, host: Partner, partner: Partner
) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.version_draft(
            agreement=active,
            parties=make_parties(host, partner),
            terms=_terms(host, partner),
            effective_from=TODAY - timedelta(days=1),
            valid_until=TODAY + timedelta(days=30),
            actor=SYSTEM,
        )

    assert refused.value.code == ErrorCode.VALIDATION_FAILED
    assert refused.value.fields is not None
    assert "effective_from" in refused.value.fields
    assert active.versions.count() == 1


def test_a_draft_whose_date_has_passed_cannot_be_proposed(
    active: Agreement, host: Partner, partner: Partner
) -> None:
    version = services.version_draft(
        agreement=active,
        parties=make_parties(host, partner),
        terms=_terms(host, partner),
        effective_from=TODAY,
        valid_until=TODAY + timedelta(days=30),
        actor=SYSTEM,
    )

    with pytest.raises(ApplicationError) as refused:
        services.version_propose(version=version, actor=SYSTEM, today=TODAY + timedelta(days=1))

    assert refused.value.fields is not None
    assert "effective_from" in refused.value.fields
    version.refresh_from_db()
    assert version.status == AgreementVersion.Status.DRAFT


def test_adding_a_company_is_an_amendment_that_binds_it_only_once_it_signs(
    active: Agreement, host: Partner, partner: Partner, outsider: Partner
) -> None:
    version = _amendment_adding(active, host, partner, outsider)
    version = services.version_propose(version=version, actor=SYSTEM)
    _sign_all(version, host, partner)
    # Until the newcomer signs, version 1 stays in force and the newcomer receives nothing.
    assert terms_in_force(provider=host, recipient=outsider, purpose="cross_enrollment") is None
    assert list(agreement_list(principal=outsider)) == [active]  # it may read what it signs

    _sign_all(version, outsider)

    added = terms_in_force(provider=host, recipient=outsider, purpose="cross_enrollment")
    assert added is not None
    assert added.version.number == 2


def test_an_agreement_runs_out_on_its_last_day(
    active: Agreement, host: Partner, partner: Partner
) -> None:
    last_day = active.versions.get().valid_until
    assert terms_in_force(
        provider=host, recipient=partner, purpose="cross_enrollment", day=last_day
    )
    assert (
        terms_in_force(
            provider=host,
            recipient=partner,
            purpose="cross_enrollment",
            day=last_day + timedelta(days=1),
        )
        is None
    )

    assert services.agreements_expire(today=last_day) == 0
    assert services.agreements_expire(today=last_day + timedelta(days=1)) == 1
    active.refresh_from_db()
    assert active.status == Agreement.Status.EXPIRED


def test_a_version_signed_after_its_date_takes_effect_when_signed(
    host: Partner, partner: Partner
) -> None:
    agreement = _agreement(host, partner)
    version = services.version_propose(version=agreement.versions.get(), actor=SYSTEM)
    signed_on = timezone.now() + timedelta(days=3)
    for who in (host, partner):
        services.version_sign(
            version=version, partner=who, signed_by="CEO", actor=SYSTEM, now=signed_on
        )
    agreement.refresh_from_db()

    assert version_in_force(agreement, TODAY) is None
    assert version_in_force(agreement, timezone.localdate(signed_on)) is not None


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"data_flows": []}, "terms.data_flows"),
        ({"overlap": {"min_cell": 3}}, "terms.overlap.min_cell"),
        (
            {"referral": {"fee_yen": "500", "fee_percent": "3", "attribution_days": 30}},
            "terms.referral",
        ),
        ({"referral": {"fee_yen": 500.5, "attribution_days": 30}}, "terms.referral.fee_yen"),
        ({"coin": {"exchange": True, "programs": {}}}, "terms.coin.programs"),
        ({"surprise": 1}, "terms.surprise"),
    ],
)
def test_bad_terms_are_refused_with_the_path_of_each_problem(
    host: Partner, partner: Partner, change: dict[str, Any], path: str
) -> None:
    with pytest.raises(ApplicationError) as refused:
        _agreement(host, partner, terms=_terms(host, partner, **change))

    assert refused.value.code == ErrorCode.VALIDATION_FAILED
    assert refused.value.fields is not None
    assert path in refused.value.fields
    assert not Agreement.objects.exists()


@pytest.mark.parametrize(
    ("flow_change", "path"),
    [
        ({"purpose": "mind_reading"}, "terms.data_flows[0].purpose"),
        ({"fields": ["name", "bank_account"]}, "terms.data_flows[0].fields"),
        ({"recipient": "nobody-co"}, "terms.data_flows[0].recipient"),
        ({"legal_basis": "legitimate_interest"}, "terms.data_flows[0].legal_basis"),
    ],
)
def test_a_flow_must_name_parties_purposes_and_fields_we_know(
    host: Partner, partner: Partner, flow_change: dict[str, Any], path: str
) -> None:
    terms = _terms(host, partner)
    terms["data_flows"][0].update(flow_change)

    with pytest.raises(ApplicationError) as refused:
        _agreement(host, partner, terms=terms)

    assert refused.value.fields is not None
    assert path in refused.value.fields


def test_joint_use_must_state_its_public_notice(host: Partner, partner: Partner) -> None:
    terms = _terms(host, partner)
    del terms["data_flows"][1]["joint_use"]["responsible_representative"]

    with pytest.raises(ApplicationError) as refused:
        _agreement(host, partner, terms=terms)

    assert refused.value.fields is not None
    assert "responsible_representative" in " ".join(
        refused.value.fields["terms.data_flows[1].joint_use"]
    )


def test_only_one_version_is_open_at_a_time(
    active: Agreement, host: Partner, partner: Partner
) -> None:
    options: dict[str, Any] = {
        "agreement": active,
        "parties": make_parties(host, partner),
        "terms": _terms(host, partner),
        "effective_from": TODAY + timedelta(days=1),
        "valid_until": TODAY + timedelta(days=30),
        "actor": SYSTEM,
    }
    services.version_draft(**options)

    with pytest.raises(ApplicationError) as refused:
        services.version_draft(**options)

    assert refused.value.code == ErrorCode.CONFLICT
    assert active.versions.count() == 2


def test_money_and_rates_are_decimal_strings_never_floats(host: Partner, partner: Partner) -> None:
    agreement = _agreement(host, partner)
    coin = agreement.versions.get().terms["coin"]

    assert coin["programs"][partner.slug] == {"yen_per_coin": "0.5", "rate_to_shared": "0.5"}
    assert coin["programs"][host.slug] == {"yen_per_coin": "1", "rate_to_shared": "1"}


def test_validity_must_end_after_it_starts(host: Partner, partner: Partner) -> None:
    with pytest.raises(ApplicationError) as refused:
        _agreement(host, partner, valid_until=TODAY - timedelta(days=1))
    assert refused.value.fields is not None
    assert "valid_until" in refused.value.fields


def test_every_change_of_an_agreement_is_in_the_audit_log(
    host: Partner, partner: Partner, alliance_manager: Any
) -> None:
    manager = Actor(user=alliance_manager)
    agreement = services.agreement_create(
        title="Audited",
        host=host,
        parties=make_parties(host, partner),
        terms=_terms(host, partner),
        effective_from=TODAY,
        valid_until=TODAY + timedelta(days=30),
        actor=manager,
    )
    version = services.version_propose(version=agreement.versions.get(), actor=manager)
    _sign_all(version, host, partner)
    services.agreement_suspend(agreement=agreement, reason="Review", actor=manager)

    logged = list(
        AuditEvent.objects.filter(object_id=str(agreement.pk), action__startswith="agreement.")
        .order_by("occurred_at", "id")
        .values_list("action", "partner__slug")
    )
    assert logged == [
        ("agreement.created", host.slug),
        ("agreement.proposed", host.slug),
        ("agreement.signed", host.slug),
        ("agreement.signed", partner.slug),
        ("agreement.suspended", host.slug),
    ]
    assert AuditEvent.objects.filter(actor_user=alliance_manager, action="agreement.suspended")
