"""Agreements in the alliance console: alliance managers draft terms through the services,
propose them, record signatures given on paper, suspend, resume and terminate; they see the
versions and signatures side by side and the changes between two versions. Nobody else gets
in, nothing is deleted, and a GET changes nothing."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.services import consent_grant
from federation import services
from federation.agreements.terms import (
    MISSING,
    SECTION_INPUTS,
    SECTIONS,
    TermsContext,
    TermsInput,
    TermsInputs,
)
from federation.models import Agreement, AgreementParty, AgreementVersion, Enrollment
from partners import services as partner_services
from partners.actors import Actor
from partners.models import Partner, StaffRole
from partners.services import member_create
from tests.factories import make_agreement, make_notice, make_parties, make_user

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
TODAY = timezone.localdate()
LIST = "/admin/federation/agreement/"
ADD = LIST + "add/"
PARTY_FIELDS = ("partner", "contact_name", "contact_email")


def _url(agreement: Agreement, *parts: Any) -> str:
    return "/".join([f"{LIST}{agreement.pk}", *map(str, parts), ""])


def _login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def manager_client(alliance_manager: User) -> Client:
    return _login(alliance_manager)


def _terms(host: Partner, brand: Partner, fields: tuple[str, ...] = ("name", "email")) -> Any:
    return {
        "data_flows": [
            {
                "provider": host.slug,
                "recipient": brand.slug,
                "purpose": "cross_enrollment",
                "fields": list(fields),
                "legal_basis": "consent",
            }
        ],
        "coin": {"exchange": False, "programs": {}},
        "referral": {"fee_yen": "500", "fee_percent": None, "attribution_days": 30},
        "overlap": {"min_cell": 50},
        "sampling": None,
    }


def _agreement(
    host: Partner, brand: Partner, *, title: str = "Host and Brand", state: str = "draft"
) -> Agreement:
    """An agreement made through the services, as far as ``state``: draft, proposed, active."""
    return make_agreement(host, brand, title=title, state=state, terms=_terms(host, brand))


def _flow_row(flow: dict[str, Any]) -> dict[str, Any]:
    """A data flow as its row of the terms form posts it."""
    row = {
        "provider": flow["provider"],
        "recipient": flow["recipient"],
        "purpose": flow["purpose"],
        "member_fields": list(flow["fields"]),
        "legal_basis": flow.get("legal_basis", "consent"),
    }
    for item, text in flow.get("joint_use", {}).items():
        row[f"joint_use_{item}"] = text
    return row


def _management(prefix: str, rows: int) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(rows),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def _terms_post(terms: dict[str, Any]) -> dict[str, Any]:
    """A terms document as the terms form posts it: a row per flow and one blank row, the
    coin, referral and overlap inputs, and one blank coin-program and coin-action row."""
    flows = [_flow_row(flow) for flow in terms["data_flows"]] + [{"legal_basis": "consent"}]
    data: dict[str, Any] = {**_management("flows", len(flows)), "carried": "{}"}
    for index, row in enumerate(flows):
        data.update({f"flows-{index}-{name}": value for name, value in row.items()})
    coin = terms.get("coin") or {"exchange": False, "programs": {}}
    if coin["exchange"]:
        data["coin-exchange"] = "on"
    programs = [*sorted(coin["programs"].items()), ("", {})]
    data.update(_management("coin-programs", len(programs)))
    for index, (slug, program) in enumerate(programs):
        data[f"coin-programs-{index}-party"] = slug
        for key in ("yen_per_coin", "rate_to_shared"):
            data[f"coin-programs-{index}-{key}"] = program.get(key, "")
    actions = [*coin.get("actions", []), {}]
    data.update(_management("coin-actions", len(actions)))
    for index, action in enumerate(actions):
        for key, value in action.items():
            data[f"coin-actions-{index}-{key}"] = "on" if value is True else value
    referral = terms.get("referral") or {}
    for key in ("fee_yen", "fee_percent", "attribution_days"):
        value = referral.get(key)
        data[f"referral-{key}"] = "" if value is None else str(value)
    data["overlap-min_cell"] = str((terms.get("overlap") or {}).get("min_cell", ""))
    return data


def _form(host: Partner, brand: Partner, *, terms: Any = None, **changes: Any) -> dict[str, Any]:
    """The terms form as a browser posts it: the version's fields, three party rows and the
    terms (``_terms`` unless given)."""
    rows = [
        (host, "Hana Host", "hana@host-co.example"),
        (brand, "Ben Brand", "ben@brand-co.example"),
        (None, "", ""),
    ]
    data: dict[str, Any] = {
        "title": "Host and Brand co-marketing",
        "host": str(host.pk),
        "effective_from": TODAY.isoformat(),
        "valid_until": (TODAY + timedelta(days=365)).isoformat(),
        "summary": "First terms.",
        **_terms_post(terms if terms is not None else _terms(host, brand)),
        **_management("parties", len(rows)),
    }
    for index, (partner, name, email) in enumerate(rows):
        data[f"parties-{index}-partner"] = str(partner.pk) if partner else ""
        data[f"parties-{index}-contact_name"] = name
        data[f"parties-{index}-contact_email"] = email
    data.update(changes)
    return data


def _as_posted(response: Any) -> dict[str, Any]:
    """Every input of a terms form page as a browser posts it unchanged: what the forms show
    (their initial values), management forms included."""
    context = response.context
    terms = context["terms"]
    forms: list[Any] = [context["form"], terms.carried, *terms.flows, *context["formset"]]
    management = [context["formset"].management_form, terms.flows.management_form]
    for section in terms.sections:
        forms.append(section.form)
        if section.rows is not None:
            forms += list(section.rows)
            management.append(section.rows.management_form)
        if section.list_rows is not None:
            forms += list(section.list_rows)
            management.append(section.list_rows.management_form)
    data: dict[str, Any] = {}
    for form in [*forms, *management]:
        for field in form:
            value = field.value()
            if value is None or value is False:
                continue
            if value is True:
                value = "on"
            if hasattr(value, "pk"):
                value = value.pk
            data[field.html_name] = value if isinstance(value, list) else str(value)
    return data


def _next_to(content: str, message: str, input_name: str) -> None:
    """``message`` is shown right before the input named ``input_name`` (in its cell or row),
    not somewhere else on the page."""
    escaped = message.replace("'", "&#x27;")
    assert escaped in content, message
    at = content.index(f'name="{input_name}"')
    before = content[:at]
    start = before.rindex(escaped)
    assert "name=" not in before[start:], f"{message!r} is not next to {input_name}"


def _messages(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _act(client: Client, agreement: Agreement, action: str, **data: Any) -> Any:
    return client.post(_url(agreement, "act", action), data, follow=True)


def _snapshot(agreement: Agreement) -> Any:
    agreement.refresh_from_db()
    versions = list(agreement.versions.order_by("number").values_list("number", "status"))
    signatures = list(
        AgreementParty.objects.filter(version__agreement=agreement)
        .order_by("pk")
        .values_list("pk", "signed_at", "signed_by")
    )
    return agreement.status, agreement.status_reason, versions, signatures


# --- terms through the form -------------------------------------------------------------------


def test_the_add_form_starts_from_an_example_terms_document(
    manager_client: Client, host: Partner
) -> None:
    response = manager_client.get(ADD)

    assert response.status_code == 200
    terms = response.context["terms"]
    assert terms.flows.initial == [
        {
            "provider": host.slug,
            "recipient": "",
            "purpose": "cross_enrollment",
            "member_fields": ["name", "email", "age_band"],
            "legal_basis": "consent",
        }
    ]
    sections = {section.name: section.form.initial for section in terms.sections}
    assert sections["referral"] == {
        "fee_yen": "500",
        "fee_percent": None,
        "attribution_days": 30,
        "lead_fee_yen": None,  # the referral domain's inputs, not in the example document
        "review_days": None,
    }
    assert response.context["formset"].initial == [{"partner": host}]
    content = response.content.decode()
    # No JSON to write: a table of flows and labelled inputs with their units.
    assert "<textarea" not in content
    for name in ("flows-0-provider", "flows-2-purpose", "referral-fee_yen", "overlap-min_cell"):
        assert f'name="{name}"' in content
    assert "Cross-enrollment" in content
    assert "相互会員登録" in content
    assert 'value="email"' in content
    assert "e-mail" in content
    assert '<span class="unit">yen</span>' in content
    assert '<span class="unit">members</span>' in content


def test_a_manager_creates_an_agreement_with_its_terms(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    response = manager_client.post(ADD, _form(host, partner))

    agreement = Agreement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url(agreement, "change")
    assert (agreement.title, agreement.host, agreement.status) == (
        "Host and Brand co-marketing",
        host,
        Agreement.Status.DRAFT,
    )
    version = agreement.versions.get()
    assert (version.number, version.status, version.summary) == (1, "draft", "First terms.")
    assert version.created_by == "user alice-manager"
    expected = _terms(host, partner)
    expected["data_flows"][0]["fields"] = ["email", "name"]
    assert version.terms == expected
    contacts = {p.partner.slug: (p.contact_name, p.contact_email) for p in version.parties.all()}
    assert contacts == {
        host.slug: ("Hana Host", "hana@host-co.example"),
        partner.slug: ("Ben Brand", "ben@brand-co.example"),
    }


def _rich_terms(host: Partner, brand: Partner) -> dict[str, Any]:
    """Terms that use every input: two flows (one of joint use), coin exchange between two
    programs, a referral fee in percent and a higher overlap threshold."""
    notice = {
        "data_items": "年代、都道府県",
        "users_scope": "ホスト社とブランド社",
        "purpose_of_use": "商品開発のためのアンケート",
        "responsible_name": "ホスト社",
        "responsible_address": "東京都千代田区1-1",
        "responsible_representative": "山田 太郎",
    }
    return {
        "data_flows": [
            {
                "provider": host.slug,
                "recipient": brand.slug,
                "purpose": "cross_enrollment",
                "fields": ["email", "name"],
                "legal_basis": "consent",
            },
            {
                "provider": host.slug,
                "recipient": brand.slug,
                "purpose": "research_survey",
                "fields": ["age_band", "prefecture"],
                "legal_basis": "joint_use",
                "joint_use": notice,
            },
        ],
        "coin": {
            "exchange": True,
            "programs": {
                host.slug: {"yen_per_coin": "1", "rate_to_shared": "1"},
                brand.slug: {"yen_per_coin": "0.5", "rate_to_shared": "2"},
            },
        },
        "referral": {"fee_yen": None, "fee_percent": "2.5", "attribution_days": 45},
        "overlap": {"min_cell": 80},
        "sampling": None,
    }


def test_a_draft_posted_back_unchanged_keeps_its_terms(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    agreement = make_agreement(host, partner, state="draft", terms=_rich_terms(host, partner))
    stored = agreement.versions.get().terms
    edit = _url(agreement, "versions", 1, "edit")

    page = manager_client.get(edit)
    response = manager_client.post(edit, _as_posted(page))

    assert response.status_code == 302, response.context and response.context["form"].errors
    version = agreement.versions.get()
    assert version.terms == stored == _rich_terms(host, partner)
    # The joint-use flow's notice is open for reading on the form; the consent flow's is not.
    content = page.content.decode()
    assert content.count('<details class="joint-use" open>') == 1


def test_a_manager_amends_the_terms_through_the_form(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    agreement = _agreement(host, partner, state="active")
    signed = agreement.versions.get().terms
    new = _url(agreement, "versions", "new")
    page = manager_client.get(new)
    posted = _as_posted(page)
    assert posted["flows-0-member_fields"] == ["email", "name"]
    assert posted["referral-fee_yen"] == "500"

    posted["flows-0-member_fields"] = ["email", "name", "phone"]
    posted["referral-fee_yen"] = "800"
    posted["summary"] = "Phone, and a higher fee."
    response = manager_client.post(new, posted)

    assert response.status_code == 302
    amended = agreement.versions.get(number=2)
    assert amended.status == AgreementVersion.Status.DRAFT
    assert amended.terms["data_flows"][0]["fields"] == ["email", "name", "phone"]
    assert amended.terms["referral"] == {
        "fee_yen": "800",
        "fee_percent": None,
        "attribution_days": 30,
    }
    assert agreement.versions.get(number=1).terms == signed


def test_a_manager_adds_a_company_with_its_own_flow(
    manager_client: Client, host: Partner, partner: Partner, outsider: Partner
) -> None:
    agreement = _agreement(host, partner, state="active")
    new = _url(agreement, "versions", "new")
    posted = _as_posted(manager_client.get(new))

    posted.update(
        {
            "parties-2-partner": str(outsider.pk),
            "parties-2-contact_name": "Olga Outsider",
            "parties-2-contact_email": "olga@outsider-co.example",
            "flows-1-provider": host.slug,
            "flows-1-recipient": outsider.slug,
            "flows-1-purpose": "sampling_shipment",
            "flows-1-member_fields": ["name", "address", "postal_code"],
            "flows-1-legal_basis": "consent",
        }
    )
    response = manager_client.post(new, posted)

    assert response.status_code == 302
    version = agreement.versions.get(number=2)
    assert sorted(version.parties.values_list("partner__slug", flat=True)) == sorted(
        [host.slug, partner.slug, outsider.slug]
    )
    assert version.terms["data_flows"][1] == {
        "provider": host.slug,
        "recipient": outsider.slug,
        "purpose": "sampling_shipment",
        "fields": ["address", "name", "postal_code"],
        "legal_basis": "consent",
    }


# Each refusal (of the form, or of the drafting services by its path in the terms) and the
# input it is shown next to. ``{host}``, ``{brand}`` and ``{outsider}`` name the companies.
REFUSALS = [
    (
        {"flows-0-recipient": "{outsider}"},
        "The recipient must be a party to this version.",
        "flows-0-recipient",
    ),
    (
        {"flows-0-recipient": "{host}"},
        "A company does not provide data to itself.",
        "flows-0-recipient",
    ),
    ({"flows-0-provider": ""}, "The provider must be a party to this version.", "flows-0-provider"),
    (
        {"flows-0-member_fields": []},
        "Name the member fields the recipient may receive.",
        "flows-0-member_fields",
    ),
    ({"flows-0-purpose": "shoe_sales"}, "Select a valid choice.", "flows-0-purpose"),
    (
        {"flows-0-legal_basis": "joint_use"},
        "Joint use must state this.",
        "flows-0-joint_use_responsible_address",
    ),
    (
        {
            "flows-1-provider": "{host}",
            "flows-1-recipient": "{brand}",
            "flows-1-purpose": "cross_enrollment",
            "flows-1-member_fields": ["phone"],
        },
        "This provider, recipient and purpose already have a flow.",
        "flows-1-provider",
    ),
    (
        {
            "flows-0-provider": "",
            "flows-0-recipient": "",
            "flows-0-purpose": "",
            "flows-0-member_fields": [],
        },
        "Give at least one data flow.",
        "flows-0-provider",
    ),
    (
        {"referral-fee_percent": "3"},
        "Give exactly one of fee_yen and fee_percent.",
        "referral-fee_yen",
    ),
    ({"referral-fee_yen": "-5"}, "A decimal string of yen, 0 to 10,000,000.", "referral-fee_yen"),
    ({"referral-fee_yen": "five hundred"}, "Enter a number.", "referral-fee_yen"),
    (
        {"referral-attribution_days": "400"},
        "Whole days from 1 to 365.",
        "referral-attribution_days",
    ),
    (
        {"overlap-min_cell": "3"},
        "A whole number of members, at least the alliance's floor of 50.",
        "overlap-min_cell",
    ),
    (
        {
            "coin-exchange": "on",
            "coin-programs-0-party": "{host}",
            "coin-programs-0-yen_per_coin": "1",
            "coin-programs-0-rate_to_shared": "1",
        },
        "Coin exchange needs the programs of at least two parties.",
        "coin-programs-0-party",
    ),
    (
        {
            "coin-programs-0-party": "{outsider}",
            "coin-programs-0-yen_per_coin": "1",
            "coin-programs-0-rate_to_shared": "1",
        },
        "Only a party runs a coin program here.",
        "coin-programs-0-party",
    ),
    (
        {
            "coin-programs-0-party": "{brand}",
            "coin-programs-0-yen_per_coin": "0",
            "coin-programs-0-rate_to_shared": "1",
        },
        "The yen each issued coin is funded with: a decimal string from 0.01 to 1000.",
        "coin-programs-0-yen_per_coin",
    ),
    (
        {"coin-programs-0-yen_per_coin": "1"},
        "Choose the company of this row.",
        "coin-programs-0-party",
    ),
    ({"parties-1-partner": ""}, "Choose the company of this contact.", "parties-1-partner"),
]


@pytest.mark.parametrize(("changes", "message", "input_name"), REFUSALS)
def test_each_refusal_is_shown_next_to_its_input_and_nothing_is_written(
    manager_client: Client,
    host: Partner,
    partner: Partner,
    outsider: Partner,
    changes: dict[str, Any],
    message: str,
    input_name: str,
) -> None:
    slugs = {"host": host.slug, "brand": partner.slug, "outsider": outsider.slug}
    posted = _form(host, partner)
    for name, value in changes.items():
        posted[name] = value.format(**slugs) if isinstance(value, str) else value

    response = manager_client.post(ADD, posted)

    assert response.status_code == 200
    content = response.content.decode()
    assert "Nothing has been saved" in content
    _next_to(content, message, input_name)
    assert (
        content.count(message.replace("'", "&#x27;")) == 1
        or message == "Joint use must state this."
    )
    assert not Agreement.objects.exists()
    assert not AgreementVersion.objects.exists()


def test_a_missing_host_and_a_half_row_are_shown_with_the_parties(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    no_host_party = manager_client.post(
        ADD, _form(host, partner, **{f"parties-0-{name}": "" for name in PARTY_FIELDS})
    )
    half_row = manager_client.post(ADD, _form(host, partner, **{"parties-0-partner": ""}))

    # The service's check of the parties, shown above the party rows.
    assert "The host is a party to every agreement." in no_host_party.context["party_errors"]
    _next_to(
        no_host_party.content.decode(),
        "The host is a party to every agreement.",
        "parties-0-partner",
    )
    assert half_row.context["formset"].errors[0] == {
        "partner": ["Choose the company of this contact."]
    }
    assert not Agreement.objects.exists()


def test_a_tampered_hidden_section_is_a_form_error(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    deep = manager_client.post(ADD, _form(host, partner, carried="[" * 5000 + "]" * 5000))
    unknown = manager_client.post(ADD, _form(host, partner, carried='{"shoes": 1}'))

    for response in (deep, unknown):
        assert response.context["terms"].carried.errors["carried"] == [
            "The form was changed: reload it."
        ]
    assert not Agreement.objects.exists()


def _check_trial(raw: Any, context: TermsContext) -> dict[str, Any]:
    """A terms section a later domain might register: how long a trial membership lasts."""
    days = 7 if raw is MISSING else raw.get("days", 7)
    if not isinstance(days, int) or days < 1:
        context.fail("trial.days", "At least a day.")
    return {"days": days}


TRIAL_INPUTS = TermsInputs(
    title="Trials",
    inputs=(TermsInput("days", "Trial length", unit="days", help="How long a trial lasts."),),
)


def test_a_section_registered_with_inputs_is_drafted_by_the_console(
    manager_client: Client, host: Partner, partner: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(SECTIONS, "trial", _check_trial)
    monkeypatch.setitem(SECTION_INPUTS, "trial", TRIAL_INPUTS)

    form = manager_client.get(ADD).content.decode()
    refused = manager_client.post(ADD, _form(host, partner, **{"trial-days": "0"}))
    saved = manager_client.post(ADD, _form(host, partner, **{"trial-days": "14"}))

    assert 'name="trial-days"' in form
    assert "Trial length" in form
    assert "How long a trial lasts." in form
    _next_to(refused.content.decode(), "At least a day.", "trial-days")
    assert saved.status_code == 302
    agreement = Agreement.objects.get()
    assert agreement.versions.get().terms["trial"] == {"days": 14}
    page = manager_client.get(_url(agreement, "change"))
    trial = next(s for s in page.context["columns"][0].terms.sections if s.name == "trial")
    assert trial.rows == [("Trial length", "14 days")]


def test_a_section_registered_without_inputs_is_carried_to_the_next_version(
    manager_client: Client, host: Partner, partner: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(SECTIONS, "trial", _check_trial)
    terms = {**_terms(host, partner), "trial": {"days": 30}}
    agreement = make_agreement(host, partner, state="active", terms=terms)
    new = _url(agreement, "versions", "new")

    response = manager_client.post(new, _as_posted(manager_client.get(new)))

    assert response.status_code == 302
    assert agreement.versions.get(number=2).terms["trial"] == {"days": 30}
    page = manager_client.get(_url(agreement, "change"))
    assert page.context["columns"][1].terms.other == [("trial", '{"days": 30}')]


def test_the_lifecycle_through_the_console(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    manager_client.post(ADD, _form(host, partner))
    agreement = Agreement.objects.get()

    # Edit the draft: its form starts from the draft, and saving calls version_update.
    edit = manager_client.get(_url(agreement, "versions", 1, "edit"))
    assert edit.context["terms"].flows.initial[0]["member_fields"] == ["email", "name"]
    changed = _terms(host, partner, fields=("name", "email", "age_band"))
    response = manager_client.post(
        _url(agreement, "versions", 1, "edit"),
        _form(host, partner, terms=changed, summary="Age band too."),
    )
    assert response.status_code == 302
    version = agreement.versions.get()
    assert version.summary == "Age band too."
    assert version.terms["data_flows"][0]["fields"] == ["age_band", "email", "name"]

    # Propose, then record both signatures given on paper.
    response = _act(manager_client, agreement, "propose", version=1)
    assert "v1 is proposed" in " ".join(_messages(response))
    version.refresh_from_db()
    assert version.status == AgreementVersion.Status.PROPOSED
    page = manager_client.get(_url(agreement, "change")).content.decode()
    assert "Record the signature" in page

    _act(
        manager_client,
        agreement,
        "sign",
        version=1,
        partner=host.pk,
        signed_by="Hana Host, CEO",
        how="on paper",
    )
    listed = manager_client.get(LIST).content.decode()
    assert "v1: 1 of 2 signed" in listed
    response = _act(
        manager_client,
        agreement,
        "sign",
        version=1,
        partner=partner.pk,
        signed_by="Ben Brand",
        how="in person",
    )

    assert "Every party has signed v1." in " ".join(_messages(response))
    agreement.refresh_from_db()
    version.refresh_from_db()
    assert agreement.status == Agreement.Status.ACTIVE
    assert version.status == AgreementVersion.Status.SIGNED
    signed_by = dict(version.parties.values_list("partner__slug", "signed_by"))
    assert signed_by == {
        host.slug: "Hana Host, CEO, on paper (recorded by user alice-manager)",
        partner.slug: "Ben Brand, in person (recorded by user alice-manager)",
    }
    assert f"v1, until {version.valid_until:%Y-%m-%d}" in manager_client.get(LIST).content.decode()

    # A signed version is read-only: its edit page sends back to the agreement.
    response = manager_client.get(_url(agreement, "versions", 1, "edit"), follow=True)
    assert "only a draft can be changed" in " ".join(_messages(response))

    # Suspending needs a reason.
    response = _act(manager_client, agreement, "suspend", reason="  ")
    assert "reason: Give the reason" in " ".join(_messages(response))
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.ACTIVE

    _act(manager_client, agreement, "suspend", reason="Complaint under review")
    agreement.refresh_from_db()
    assert (agreement.status, agreement.status_reason) == ("suspended", "Complaint under review")
    assert (
        "Complaint under review" in manager_client.get(_url(agreement, "change")).content.decode()
    )

    _act(manager_client, agreement, "resume")
    agreement.refresh_from_db()
    assert (agreement.status, agreement.status_reason) == ("active", "")


def test_a_new_version_starts_from_the_latest_terms_and_parties(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    agreement = _agreement(host, partner, state="active")

    page = manager_client.get(_url(agreement, "versions", "new"))

    assert page.status_code == 200
    assert page.context["terms"].flows.initial == [
        {
            "provider": host.slug,
            "recipient": partner.slug,
            "purpose": "cross_enrollment",
            "member_fields": ["email", "name"],
            "legal_basis": "consent",
        }
    ]
    assert [row["contact_name"] for row in page.context["formset"].initial] == [
        f"Contact of {host.slug}",
        f"Contact of {partner.slug}",
    ]
    response = manager_client.post(_url(agreement, "versions", "new"), _form(host, partner))
    assert response.status_code == 302
    assert agreement.versions.get(number=2).status == AgreementVersion.Status.DRAFT


def test_an_amendment_dated_in_the_past_is_a_form_error_and_nothing_is_written(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    agreement = _agreement(host, partner, state="active")
    yesterday = (TODAY - timedelta(days=1)).isoformat()

    response = manager_client.post(
        _url(agreement, "versions", "new"), _form(host, partner, effective_from=yesterday)
    )

    assert response.status_code == 200
    assert response.context["form"].errors["effective_from"] == [
        "Terms cannot take effect in the past; pick today or later."
    ]
    assert agreement.versions.count() == 1


def test_withdraw_and_terminate(manager_client: Client, host: Partner, partner: Partner) -> None:
    agreement = _agreement(host, partner, state="proposed")

    _act(manager_client, agreement, "withdraw", version=1)
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.DRAFT
    assert agreement.versions.get().status == AgreementVersion.Status.WITHDRAWN

    _act(manager_client, agreement, "terminate", reason="The partner left the alliance")
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.TERMINATED
    page = manager_client.get(_url(agreement, "change")).content.decode()
    assert "Draft a new version" not in page
    assert "nothing more can be done" in page


def test_a_refused_action_is_a_message_not_a_server_error(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    agreement = _agreement(host, partner, state="active")
    before = _snapshot(agreement)

    resume = _act(manager_client, agreement, "resume")
    propose = _act(manager_client, agreement, "propose", version=7)
    odd_digit = _act(manager_client, agreement, "propose", version="²")
    sign = _act(manager_client, agreement, "sign", version=1, partner="x", how="on paper")

    assert resume.status_code == propose.status_code == sign.status_code == 200
    assert "cannot become active" in " ".join(_messages(resume))
    assert "No such version." in _messages(propose)
    assert "No such version." in _messages(odd_digit)
    assert "Choose the party that signed." in _messages(sign)
    assert _snapshot(agreement) == before


# --- the agreement's page and the diff --------------------------------------------------------


def test_versions_and_signatures_side_by_side_and_their_diff(
    manager_client: Client, host: Partner, partner: Partner, outsider: Partner
) -> None:
    agreement = _agreement(host, partner, state="active")
    services.version_draft(
        agreement=agreement,
        parties=make_parties(host, partner, outsider),
        terms=_terms(host, partner, fields=("name", "email", "phone")),
        effective_from=TODAY,
        valid_until=TODAY + timedelta(days=365),
        summary="Phone too; Outsider joins.",
        actor=SYSTEM,
    )

    page = manager_client.get(_url(agreement, "change"))

    assert page.status_code == 200
    columns, rows = page.context["columns"], page.context["rows"]
    assert [column.version.number for column in columns] == [1, 2]
    cells = {p.slug: [cell.state for cell in row] for p, row in rows}
    assert cells == {
        host.slug: ["signed", "not proposed yet"],
        outsider.slug: ["not a party", "not proposed yet"],
        partner.slug: ["signed", "not proposed yet"],
    }
    content = page.content.decode()
    assert "Signatory (recorded by system)" in content
    assert "diff/?old=1&amp;new=2" in content

    diff = manager_client.get(_url(agreement, "diff"), {"old": 1, "new": 2})

    assert diff.status_code == 200
    flow = f"Flow {host.slug} → {partner.slug}, purpose Cross-enrollment (cross_enrollment)"
    contact = f"Contact of {outsider.slug} <alliance@{outsider.slug}.example>"
    assert [(change.kind, change.text) for change in diff.context["rows"]] == [
        ("added", f"Added company {outsider.slug} (contact: {contact})."),
        ("added", f"{flow}: added field phone."),
    ]
    assert f"{flow}: added field phone." in diff.content.decode()
    assert manager_client.get(_url(agreement, "diff"), {"old": 9, "new": 2}).status_code == 404
    assert manager_client.get(_url(agreement, "diff"), {"old": "1", "new": "²"}).status_code == 404


def _two_versions(host: Partner, partner: Partner, outsider: Partner) -> Agreement:
    """v1 signed on ``_terms``; v2 drafted: a flow to the outsider added, the flow to the
    brand without e-mail and on joint use, a higher referral fee, coin exchange, and the
    outsider as a party."""
    agreement = _agreement(host, partner, state="active")
    terms = _rich_terms(host, partner)
    terms["data_flows"] = [
        {**terms["data_flows"][1], "purpose": "cross_enrollment", "fields": ["name", "age_band"]},
        {
            "provider": host.slug,
            "recipient": outsider.slug,
            "purpose": "sampling_shipment",
            "fields": ["name", "address"],
            "legal_basis": "consent",
        },
    ]
    terms["referral"] = {"fee_yen": "1500", "fee_percent": None, "attribution_days": 30}
    services.version_draft(
        agreement=agreement,
        parties=make_parties(host, partner, outsider),
        terms=terms,
        effective_from=TODAY + timedelta(days=7),
        valid_until=TODAY + timedelta(days=365),
        summary="Outsider joins.",
        actor=SYSTEM,
    )
    return agreement


def test_the_diff_says_what_changed_in_words(
    manager_client: Client, host: Partner, partner: Partner, outsider: Partner
) -> None:
    agreement = _two_versions(host, partner, outsider)

    response = manager_client.get(_url(agreement, "diff"))

    changes = [(change.kind, change.text) for change in response.context["rows"]]
    flow = f"Flow {host.slug} → {partner.slug}, purpose Cross-enrollment (cross_enrollment)"
    later = TODAY + timedelta(days=7)
    assert changes == [
        ("changed", f"Effective from changed from {TODAY:%Y-%m-%d} to {later:%Y-%m-%d}."),
        (
            "added",
            f"Added company {outsider.slug} (contact: Contact of {outsider.slug} "
            f"<alliance@{outsider.slug}.example>).",
        ),
        ("added", f"{flow}: added field age band."),
        ("removed", f"{flow}: removed field e-mail."),
        ("changed", f"{flow}: the legal basis changed from Consent to Joint use."),
        ("added", f"{flow}: Data used jointly set to 年代、都道府県."),
        ("added", f"{flow}: Who uses it jointly set to ホスト社とブランド社."),
        ("added", f"{flow}: Purpose of the joint use set to 商品開発のためのアンケート."),
        ("added", f"{flow}: Responsible party set to ホスト社."),
        ("added", f"{flow}: Its address set to 東京都千代田区1-1."),
        ("added", f"{flow}: Its representative set to 山田 太郎."),
        (
            "added",
            f"Added flow: {host.slug} → {outsider.slug}, purpose Sampling shipment "
            "(sampling_shipment), fields name, address, on the basis of consent.",
        ),
        # Sections in the order they were registered: the agreement's own, then the domains'.
        ("changed", "Referral fee changed from ¥500 to ¥1,500."),
        ("changed", "Smallest cell shown changed from 50 members to 80 members."),
        ("changed", "Coin exchange changed from No to Yes."),
        ("added", f"Funding per coin of {partner.slug} set to ¥0.5."),
        ("added", f"Shared coins per coin of {partner.slug} set to 2."),
        ("added", f"Funding per coin of {host.slug} set to ¥1."),
        ("added", f"Shared coins per coin of {host.slug} set to 1."),
    ]


def test_the_diff_speaks_japanese(
    alliance_manager: User, host: Partner, partner: Partner, outsider: Partner
) -> None:
    agreement = _two_versions(host, partner, outsider)
    client = Client(headers={"accept-language": "ja"})
    client.force_login(alliance_manager)

    response = client.get(_url(agreement, "diff"))

    texts = [change.text for change in response.context["rows"]]
    flow = f"{host.slug} → {partner.slug}（目的: 相互会員登録（cross_enrollment））のデータ提供"  # noqa: RUF001
    assert f"{flow}: 項目「メールアドレス」を削除しました。" in texts
    assert f"{flow}: 法的根拠を同意から共同利用に変更しました。" in texts
    assert "紹介料を500円から1,500円に変更しました。" in texts
    assert f"{partner.slug} のコイン1枚あたりの原資を0.5円に設定しました。" in texts
    assert "Referral fee" not in response.content.decode()


def test_a_version_reads_as_terms_not_json(
    manager_client: Client, host: Partner, partner: Partner, outsider: Partner
) -> None:
    agreement = _two_versions(host, partner, outsider)

    page = manager_client.get(_url(agreement, "change"))

    old, new = (column.terms for column in page.context["columns"])
    assert [(f.provider, f.recipient, f.purpose, f.fields, f.basis) for f in old.flows] == [
        (host.slug, partner.slug, "Cross-enrollment (cross_enrollment)", "name, e-mail", "Consent")
    ]
    assert new.flows[0].basis == "Joint use"
    assert ("Responsible party", "ホスト社") in new.flows[0].joint_use
    sections = {section.name: section for section in new.sections}
    assert sections["referral"].rows == [
        ("Referral fee", "¥1,500"),
        ("Referral fee as a percentage", "—"),
        ("Attribution window", "30 days"),
        ("Fee per lead", "—"),
        ("Review period", "—"),
    ]
    assert sections["coin"].rows == [("Coin exchange", "Yes")]
    unset = ["—"] * 6  # the programs' earning and expiry settings, not given here
    assert sections["coin"].party_rows == [
        (partner.slug, ["¥0.5", "2", *unset]),
        (host.slug, ["¥1", "1", *unset]),
    ]
    assert sections["overlap"].rows == [("Smallest cell shown", "80 members")]
    content = page.content.decode()
    assert "&quot;data_flows&quot;" not in content
    assert '"data_flows"' not in content
    assert "¥1,500" in content
    assert "Sampling shipment (sampling_shipment)" in content


def test_the_agreement_page_has_no_empty_submit_row(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    agreement = _agreement(host, partner, state="active")

    content = manager_client.get(_url(agreement, "change")).content.decode()

    assert 'class="submit-row"' not in content
    assert "closelink" not in content


# --- the list ---------------------------------------------------------------------------------


def test_the_list_filters_by_status_and_party(
    manager_client: Client, host: Partner, partner: Partner, outsider: Partner
) -> None:
    active = _agreement(host, partner, title="With Brand", state="active")
    draft = _agreement(host, outsider, title="With Outsider")

    def titles(**params: Any) -> set[str]:
        response = manager_client.get(LIST, params)
        assert response.status_code == 200
        return {agreement.title for agreement in response.context["cl"].result_list}

    assert titles() == {active.title, draft.title}
    assert titles(status="active") == {active.title}
    assert titles(status="draft") == {draft.title}
    assert titles(party=str(outsider.pk)) == {draft.title}
    assert titles(party=str(partner.pk)) == {active.title}
    assert titles(party=str(host.pk)) == {active.title, draft.title}
    assert titles(q="Outsider") == {draft.title}
    content = manager_client.get(LIST).content.decode()
    assert "v1: draft" in content
    assert f"{host.slug}, {outsider.slug}" in content


def test_the_list_shows_no_terms_in_force_for_a_suspended_agreement(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    agreement = _agreement(host, partner, state="active")
    until = f"v1, until {agreement.versions.get().valid_until:%Y-%m-%d}"
    assert until in manager_client.get(LIST).content.decode()

    services.agreement_suspend(agreement=agreement, reason="Review", actor=SYSTEM)

    assert until not in manager_client.get(LIST).content.decode()


def _enroll(host: Partner, brand: Partner, *numbers: str) -> None:
    """Members of the host enrolled in ``brand``'s program through the services: a notice,
    both consents, then the request (the agreement between them must be active)."""
    notice = make_notice(
        text="氏名とメールアドレスを提携先に提供します。",
        purposes=["cross_enrollment", "profile_sharing"],
        recipients=[brand],
        data_items=["name", "email"],
        effective_at=timezone.now() - timedelta(days=1),
    )
    for number in numbers:
        member = member_create(
            partner=host,
            values={"member_number": number, "kind": "household", "name": "佐藤 花子"},
            actor=SYSTEM,
        )
        for purpose in ("cross_enrollment", "profile_sharing"):
            consent_grant(
                member=member,
                purpose_code=purpose,
                recipient=brand,
                notice=notice,
                channel="host_portal",
                occurred_at=timezone.now() - timedelta(minutes=5),
                actor=SYSTEM,
            )
        services.enrollment_request(member=member, target=brand, fields=None, actor=SYSTEM)


def test_the_list_counts_live_enrollments_per_agreement(
    manager_client: Client, host: Partner, partner: Partner, outsider: Partner
) -> None:
    with_brand = _agreement(host, partner, title="With Brand", state="active")
    _agreement(host, outsider, title="With Outsider", state="active")
    _enroll(host, partner, "K-1", "K-2")
    ended = Enrollment.objects.first()
    assert ended is not None
    services.enrollment_end(enrollment=ended, reason="Left", actor=SYSTEM)

    response = manager_client.get(LIST, {"o": "-6"})  # by live enrollments, most first

    counts = {a.title: a.live_enrollments for a in response.context["cl"].result_list}
    assert counts == {"With Brand": 1, "With Outsider": 0}
    assert response.context["cl"].result_list[0] == with_brand


def test_the_list_reads_a_bounded_number_of_queries(
    manager_client: Client, host: Partner, partner: Partner, outsider: Partner
) -> None:
    _agreement(host, partner, state="active")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(LIST).status_code == 200
        return len(captured)

    one = queries()
    _agreement(host, partner, title="Second", state="proposed")
    _agreement(host, outsider, title="Third")
    active = _agreement(host, outsider, title="Fourth", state="active")
    services.agreement_suspend(agreement=active, reason="Review", actor=SYSTEM)

    assert queries() == one


# --- who may do what --------------------------------------------------------------------------


def _pages(agreement: Agreement) -> list[str]:
    return [
        LIST,
        ADD,
        _url(agreement, "change"),
        _url(agreement, "history"),
        _url(agreement, "diff"),
        _url(agreement, "versions", "new"),
        _url(agreement, "versions", 1, "edit"),
    ]


def _actions(agreement: Agreement) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("propose", {"version": 1}),
        ("withdraw", {"version": 1}),
        ("sign", {"version": 1, "partner": agreement.host_id, "signed_by": "X", "how": "on paper"}),
        ("suspend", {"reason": "Because"}),
        ("resume", {}),
        ("terminate", {"reason": "Because"}),
    ]


@pytest.mark.parametrize(
    "persona", ["partner_admin", "partner_analyst", "compliance_reviewer", None]
)
def test_others_are_sent_to_the_login_page(
    persona: str | None, request: Any, host: Partner, partner: Partner
) -> None:
    client = _login(request.getfixturevalue(persona)) if persona else Client()
    agreement = _agreement(host, partner, state="proposed")
    before = _snapshot(agreement)

    for url in _pages(agreement):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/")
    for action, data in _actions(agreement):
        response = client.post(_url(agreement, "act", action), data)
        assert response.status_code == 302, action
        assert response["Location"].startswith("/admin/login/")
    assert client.post(ADD, _form(host, partner)).status_code == 302
    assert _snapshot(agreement) == before
    assert Agreement.objects.count() == 1


def test_staff_without_the_manager_role_are_refused(
    partner_admin: User, host: Partner, partner: Partner
) -> None:
    """Partner staff whose account was made staff by hand, and a staff user without a role,
    still get nothing: the role decides, not the flag."""
    partner_admin.is_staff = True
    partner_admin.save(update_fields=["is_staff"])
    handmade = make_user("handmade-staff")
    handmade.is_staff = True
    handmade.save(update_fields=["is_staff"])
    agreement = _agreement(host, partner, state="proposed")
    before = _snapshot(agreement)

    for user in (partner_admin, handmade):
        client = _login(user)
        for url in _pages(agreement):
            assert client.get(url).status_code == 403, url
        for action, data in _actions(agreement):
            assert client.post(_url(agreement, "act", action), data).status_code == 403
        assert client.post(ADD, _form(host, partner)).status_code == 403
        assert "Agreements" not in client.get("/admin/").content.decode()
    assert _snapshot(agreement) == before
    assert Agreement.objects.count() == 1


def test_a_superuser_runs_agreements_only_through_a_role(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    root = User.objects.create_superuser("root", "root@sanpo.example", "pw-123456")
    agreement = _agreement(host, partner, state="active")

    assert "Agreements" in manager_client.get("/admin/").content.decode()
    assert "Agreements" not in _login(root).get("/admin/").content.decode()
    assert _login(root).get(_url(agreement, "change")).status_code == 403

    partner_services.staff_role_set(
        user=root, role=StaffRole.Role.ALLIANCE_MANAGER, partner=None, actor=Actor(user=root)
    )
    assert _login(root).get(_url(agreement, "change")).status_code == 200
    _act(_login(root), agreement, "suspend", reason="Root says so")
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.SUSPENDED


def test_agreements_cannot_be_deleted_or_changed_directly(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    agreement = _agreement(host, partner, state="active")
    before = _snapshot(agreement)

    assert manager_client.get(_url(agreement, "delete")).status_code == 403
    assert manager_client.post(_url(agreement, "delete"), {"post": "yes"}).status_code == 403
    response = manager_client.post(_url(agreement, "change"), {"title": "Renamed"})
    assert response.status_code == 403
    assert manager_client.get(LIST).context["action_form"] is None  # no "delete selected"
    assert _snapshot(agreement) == before
    assert Agreement.objects.get().title == "Host and Brand"


def test_a_get_to_an_action_changes_nothing(
    manager_client: Client, host: Partner, partner: Partner
) -> None:
    agreement = _agreement(host, partner, state="proposed")
    before = _snapshot(agreement)

    for action, data in _actions(agreement):
        response = manager_client.get(_url(agreement, "act", action), data)
        assert response.status_code == 405, action
    assert manager_client.get(_url(agreement, "act", "explode")).status_code == 405
    assert _snapshot(agreement) == before


def test_the_actions_need_the_csrf_token(
    alliance_manager: User, host: Partner, partner: Partner
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alliance_manager)
    agreement = _agreement(host, partner, state="active")

    response = client.post(_url(agreement, "act", "suspend"), {"reason": "No token"})

    assert response.status_code == 403
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.ACTIVE


def test_the_console_counts_the_enrollments_the_enrollment_domain_calls_live() -> None:
    # The agreements console names enrollment statuses without importing the domain above it.
    from federation.agreements.admin.agreements import LIVE_ENROLLMENT
    from federation.enrollment.services import LIVE

    assert set(LIVE_ENROLLMENT) == set(LIVE)
