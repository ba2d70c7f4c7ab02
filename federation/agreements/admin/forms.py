"""The forms of the agreement console: a version's dates and summary, and its parties (its
terms are drafted in ``terms_forms``).

Plain forms, not model forms: an agreement and its versions are written only by
``federation.agreements.services``, which validate the terms against the parties and the purpose
catalogue. These forms check only what the services cannot be given (a date, a number) and then
place the services' refusals next to the fields they name.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from consent.names import partner_name
from federation.agreements.admin.terms_forms import EXTRA_PARTY_ROWS, TermsForms
from federation.agreements.models import AgreementVersion
from federation.agreements.services import PartyInput, VersionDraft
from partners.errors import ApplicationError
from partners.models import Partner


def example_terms(host: Partner | None) -> dict[str, Any]:
    """A terms document to start a new agreement from: the host provides a few fields for
    cross-enrollment to a recipient the manager chooses, with the usual referral terms."""
    return {
        "data_flows": [
            {
                "provider": host.slug if host is not None else "",
                "recipient": "",
                "purpose": "cross_enrollment",
                "fields": ["name", "email", "age_band"],
                "legal_basis": "consent",
            }
        ],
        "coin": {"exchange": False, "programs": {}},
        "referral": {"fee_yen": "500", "fee_percent": None, "attribution_days": 30},
    }


def _partners() -> QuerySet[Partner]:
    # Offboarded companies sign nothing any more; a suspended one is listed so that the
    # service's own refusal ("... is not active") explains why it cannot be a party.
    return Partner.objects.exclude(status=Partner.Status.OFFBOARDED).order_by("slug")


class PartnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.slug} — {partner_name(obj)}"


class VersionForm(forms.Form):
    """The terms of one version. ``creating`` adds the agreement's own title and host."""

    title = forms.CharField(label=_("Title"), max_length=200)
    host = PartnerChoiceField(
        label=_("Host"), queryset=Partner.objects.filter(kind=Partner.Kind.HOST)
    )
    effective_from = forms.DateField(
        label=_("Effective from"), help_text=_("YYYY-MM-DD; today or later.")
    )
    valid_until = forms.DateField(label=_("Valid until"), help_text=_("YYYY-MM-DD"))
    summary = forms.CharField(
        label=_("Summary"),
        max_length=300,
        required=False,
        help_text=_("What this version changes, in a sentence."),
    )

    def __init__(self, *args: Any, creating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not creating:
            del self.fields["title"]
            del self.fields["host"]


class PartyForm(forms.Form):
    """One company bound by the version and its contact for the agreement. A blank row is no
    party, so a company is removed by clearing its row."""

    partner = PartnerChoiceField(
        queryset=_partners(), required=False, label=pgettext_lazy("agreement party", "Company")
    )
    contact_name = forms.CharField(max_length=200, required=False, label=_("Contact name"))
    contact_email = forms.EmailField(required=False, label=_("Contact e-mail"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("partner") is not None:
            for name in ("contact_name", "contact_email"):
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, gettext("Give the party's contact."))
        elif cleaned.get("contact_name") or cleaned.get("contact_email"):
            self.add_error("partner", gettext("Choose the company of this contact."))
        return cleaned


PartyFormSet = forms.formset_factory(PartyForm, extra=EXTRA_PARTY_ROWS)


def party_rows(version: AgreementVersion | None, host: Partner | None) -> list[dict[str, Any]]:
    """The rows a form starts with: the parties of ``version`` (with their contacts), or only
    the host for a new agreement."""
    if version is not None:
        parties = sorted(
            version.parties.select_related("partner"),
            key=lambda party: (party.partner != host, party.partner.slug),  # the host first
        )
        return [
            {
                "partner": party.partner,
                "contact_name": party.contact_name,
                "contact_email": party.contact_email,
            }
            for party in parties
        ]
    return [{"partner": host}] if host is not None else []


def version_initial(version: AgreementVersion | None, host: Partner | None) -> dict[str, Any]:
    if version is not None:
        return {
            "effective_from": version.effective_from,
            "valid_until": version.valid_until,
            "summary": version.summary,
        }
    today: date = timezone.localdate()
    return {
        "host": host,
        "effective_from": today,
        "valid_until": today + timedelta(days=365),
    }


def draft_from(data: dict[str, Any], formset: Any, terms: TermsForms) -> VersionDraft:
    """What the version says, from a valid form's ``data``, its party rows (blank rows are no
    party) and its terms forms, as the drafting services take it."""
    return VersionDraft(
        parties=[
            PartyInput(
                partner=form.cleaned_data["partner"],
                contact_name=form.cleaned_data["contact_name"],
                contact_email=form.cleaned_data["contact_email"],
            )
            for form in formset.forms
            if form.cleaned_data.get("partner") is not None
        ],
        terms=terms.document(),
        effective_from=data["effective_from"],
        valid_until=data["valid_until"],
        summary=data["summary"],
    )


def place_errors(exc: ApplicationError, form: forms.Form, terms: TermsForms) -> list[str]:
    """Put a service's refusal next to the fields it names: ``terms.<path>`` next to the
    terms input of that path, other fields on themselves. Returns the errors that belong to
    the parties as a whole ("parties"), which the page shows above the party rows."""
    party_errors: list[str] = []
    if not exc.fields:
        form.add_error(None, exc.message)
        return party_errors
    for key, messages in exc.fields.items():
        for message in _as_list(messages):
            if key == "parties":
                party_errors.append(message)
            elif key.startswith("terms.") and terms.place(key.removeprefix("terms."), message):
                pass
            elif key in form.fields:
                form.add_error(key, message)
            else:
                form.add_error(None, f"{key}: {message}")
    return party_errors


def _as_list(messages: Any) -> Iterable[str]:
    if isinstance(messages, str):
        return [messages]
    return [str(message) for message in messages]
