"""The terms of a version as forms a business user fills in: a row per data flow, and for each
section registered with inputs (``federation.agreements.terms.SECTION_INPUTS``: coins,
referrals, overlap, and the domains to come) its labelled inputs and its rows per party. The
console never names a domain's section: a domain that registers inputs gets them drafted here.

``TermsForms`` turns a terms document into the forms' initial values and the posted forms back
into a document, which the drafting services validate; it then places their refusals (each
names a path in the document) next to the input it concerns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from consent.models import Purpose
from consent.names import data_item_name, partner_name
from federation.agreements.terms import (
    FLOW_FIELDS,
    JOINT_USE_ITEM_NAMES,
    JOINT_USE_ITEMS,
    LEGAL_BASIS_NAMES,
    SECTION_INPUTS,
    SECTIONS,
    UNITS,
    TermsInput,
    TermsInputs,
)
from partners import jsondepth
from partners.models import Partner

# Blank rows offered below the filled ones: a blank row is no flow (no program), and saving
# offers new blank rows, so no JavaScript is needed to add one.
EXTRA_FLOW_ROWS = 2
EXTRA_PARTY_ROWS = 2
JOINT_USE_PREFIX = "joint_use_"
# A flow's keys in the document, by the form field that holds them ("fields" is taken: it is
# every Django form's own attribute).
FLOW_KEYS = {"provider": "provider", "recipient": "recipient", "purpose": "purpose"}
FLOW_KEYS.update(fields="member_fields", legal_basis="legal_basis")


@dataclass(frozen=True)
class Choices:
    """The choices of the terms form, read once per page: the companies that may be a party
    (by slug, the document's key for them) and the purposes of the catalogue."""

    parties: list[tuple[str, str]]
    purposes: list[tuple[str, str]]

    @classmethod
    def read(cls) -> Choices:
        partners = Partner.objects.exclude(status=Partner.Status.OFFBOARDED).order_by("slug")
        purposes = Purpose.objects.filter(active=True).order_by("code")
        blank = [("", "---------")]
        return cls(
            parties=blank + [(p.slug, f"{p.slug} — {partner_name(p)}") for p in partners],
            purposes=blank + [(p.code, f"{p.name_ja} / {p.name_en}") for p in purposes],
        )


class FlowForm(forms.Form):
    """One data flow: who provides which member fields to whom, for what, on which basis. The
    joint-use notice's items are asked only of a joint-use flow."""

    provider = forms.ChoiceField(label=_("Provider"), required=False)
    recipient = forms.ChoiceField(label=_("Recipient"), required=False)
    purpose = forms.ChoiceField(label=_("Purpose"), required=False)
    member_fields = forms.MultipleChoiceField(
        label=_("Member fields"), required=False, widget=forms.CheckboxSelectMultiple
    )
    legal_basis = forms.ChoiceField(
        label=_("Legal basis"), choices=list(LEGAL_BASIS_NAMES.items()), initial="consent"
    )

    def __init__(self, *args: Any, choices: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["provider"].choices = fields["recipient"].choices = choices.parties
        fields["purpose"].choices = choices.purposes
        fields["member_fields"].choices = [(code, data_item_name(code)) for code in FLOW_FIELDS]
        for item in JOINT_USE_ITEMS:
            self.fields[JOINT_USE_PREFIX + item] = forms.CharField(
                label=str(JOINT_USE_ITEM_NAMES[item]), required=False, max_length=500
            )
        _name_inputs(self)

    def joint_use_fields(self) -> list[forms.BoundField]:
        return [self[JOINT_USE_PREFIX + item] for item in JOINT_USE_ITEMS]

    def is_joint_use(self) -> bool:
        return self["legal_basis"].value() == "joint_use"

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not any(data.get(name) for name in FLOW_KEYS.values() if name != "legal_basis")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("legal_basis") == "joint_use" and not self.is_blank():
            for item in JOINT_USE_ITEMS:
                if not cleaned.get(JOINT_USE_PREFIX + item, "").strip():
                    self.add_error(JOINT_USE_PREFIX + item, gettext("Joint use must state this."))
        return cleaned

    def flow(self) -> dict[str, Any]:
        data = self.cleaned_data
        flow = {key: data[name] for key, name in FLOW_KEYS.items()}
        if data["legal_basis"] == "joint_use":
            flow["joint_use"] = {item: data[JOINT_USE_PREFIX + item] for item in JOINT_USE_ITEMS}
        return flow


def flow_initial(flow: Mapping[str, Any]) -> dict[str, Any]:
    initial = {name: flow.get(key) for key, name in FLOW_KEYS.items()}
    for item, text in (flow.get("joint_use") or {}).items():
        initial[JOINT_USE_PREFIX + item] = text
    return initial


FlowFormSet = forms.formset_factory(FlowForm, extra=EXTRA_FLOW_ROWS)


def _input_field(spec: TermsInput) -> forms.Field:
    options: dict[str, Any] = {"label": spec.label, "help_text": spec.help, "required": False}
    made: forms.Field
    if spec.kind == "yes_no":
        made = forms.BooleanField(**options)
    elif spec.kind == "code":
        made = forms.CharField(max_length=40, **options)
    elif spec.kind == "decimal":
        made = forms.DecimalField(**options)
    else:
        made = forms.IntegerField(**options)
    made.unit = UNITS[spec.unit][0]  # type: ignore[union-attr]  # the template shows it
    return made


def _value(spec: TermsInput, value: Any) -> Any:
    """An input's cleaned value as the document writes it: money and rates as decimal
    strings, never floats."""
    if spec.kind == "code":
        return value.strip() or None
    if value is None or spec.kind != "decimal":
        return value
    return format(value.normalize(), "f")


def _name_inputs(form: forms.Form) -> None:
    """Inputs in a table's cells have no label beside them: name each for screen readers
    (checkboxes have their own labels)."""
    for each in form.fields.values():
        if not isinstance(each.widget, forms.CheckboxSelectMultiple):
            each.widget.attrs.setdefault("aria-label", str(each.label))


class PartyRowForm(forms.Form):
    """A row of a section's inputs repeated per party: the company, then the inputs."""

    party = forms.ChoiceField(label=pgettext_lazy("agreement party", "Company"), required=False)
    keys: tuple[str, ...] = ()

    def __init__(self, *args: Any, choices: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["party"].choices = choices.parties  # type: ignore[attr-defined]
        _name_inputs(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("party") and any(cleaned.get(key) for key in self.keys):
            self.add_error("party", gettext("Choose the company of this row."))
        return cleaned


def _form_class(specs: tuple[TermsInput, ...], *, party: bool) -> type[forms.Form]:
    declared: dict[str, Any] = {spec.key: _input_field(spec) for spec in specs}
    if party:
        declared["keys"] = tuple(declared)
    return type("SectionForm", (PartyRowForm if party else forms.Form,), declared)


@dataclass
class SectionForms:
    """The inputs of one registered section: its form, and its rows per party if it has any."""

    name: str
    inputs: TermsInputs
    form: forms.Form
    rows: Any = None  # a formset of the per-party inputs
    list_rows: Any = None  # a formset of the listed inputs, several rows per party
    errors: list[str] = field(default_factory=list)  # about the section as a whole
    row_errors: list[str] = field(default_factory=list)  # about its rows as a whole
    list_errors: list[str] = field(default_factory=list)  # about its listed rows as a whole

    def part(self) -> Any:
        data = self.form.cleaned_data
        part = {
            s.key: _value(s, data[s.key]) for s in self.inputs.inputs if data[s.key] is not None
        }
        if self.rows is not None:
            part[self.inputs.per_party_key] = {
                row.cleaned_data["party"]: {
                    s.key: _value(s, row.cleaned_data[s.key]) for s in self.inputs.per_party
                }
                for row in self.rows.forms
                if row.cleaned_data.get("party")
            }
        if self.list_rows is not None:
            part[self.inputs.list_key] = [
                {"party": row.cleaned_data["party"], **_listed(self.inputs, row.cleaned_data)}
                for row in self.list_rows.forms
                if row.cleaned_data.get("party")
            ]
        blank = not any(part.values()) and not any(s.kind == "yes_no" for s in self.inputs.inputs)
        return None if self.inputs.optional and blank else part

    def bound(self) -> list[forms.Form]:
        rows = self.rows.forms if self.rows is not None else []
        return [self.form, *rows, *(self.list_rows.forms if self.list_rows is not None else [])]


def _listed(inputs: TermsInputs, data: Mapping[str, Any]) -> dict[str, Any]:
    values = {s.key: _value(s, data[s.key]) for s in inputs.listed}
    return {key: value for key, value in values.items() if value is not None}


def _section_initial(inputs: TermsInputs, part: Any) -> tuple[dict[str, Any], list[Any]]:
    part = part if isinstance(part, Mapping) else {}
    initial = {spec.key: part.get(spec.key) for spec in inputs.inputs}
    rows = part.get(inputs.per_party_key) or {} if inputs.per_party_key else {}
    return initial, [{"party": slug, **values} for slug, values in sorted(rows.items())]


def _list_initial(inputs: TermsInputs, part: Any) -> list[Any]:
    listed = part.get(inputs.list_key) if isinstance(part, Mapping) else None
    return [row for row in listed if isinstance(row, Mapping)] if isinstance(listed, list) else []


def _row_formset(
    data: Any, specs: tuple[TermsInput, ...], prefix: str, initial: list[Any], choices: Choices
) -> Any:
    formset = forms.formset_factory(_form_class(specs, party=True), extra=EXTRA_PARTY_ROWS)
    return formset(data, prefix=prefix, initial=initial, form_kwargs={"choices": choices})


class TermsForms:
    """Every form of a terms document: ``TermsForms(document=...)`` to start from a document,
    ``TermsForms(data=request.POST)`` for what was posted."""

    def __init__(self, *, data: Any = None, document: Mapping[str, Any] | None = None) -> None:
        document = document or {}
        choices = Choices.read()
        self.flow_errors: list[str] = []
        self.other_errors: list[str] = []
        self.flows = FlowFormSet(
            data,
            prefix="flows",
            initial=[flow_initial(flow) for flow in document.get("data_flows", [])],
            form_kwargs={"choices": choices},
        )
        self.sections: list[SectionForms] = []
        for name, inputs in SECTION_INPUTS.items():
            initial, rows = _section_initial(inputs, document.get(name))
            section = SectionForms(
                name,
                inputs,
                _form_class(inputs.inputs, party=False)(data, prefix=name, initial=initial),
            )
            if inputs.per_party_key:
                prefix = f"{name}-{inputs.per_party_key}"
                section.rows = _row_formset(data, inputs.per_party, prefix, rows, choices)
            if inputs.list_key:
                listed = _list_initial(inputs, document.get(name))
                prefix = f"{name}-{inputs.list_key}"
                section.list_rows = _row_formset(data, inputs.listed, prefix, listed, choices)
            self.sections.append(section)
        # Sections registered without inputs are carried as they stand, unseen.
        carried = {n: document[n] for n in SECTIONS if n not in SECTION_INPUTS and n in document}
        carried.pop("data_flows", None)
        self.carried = CarriedForm(data, initial={"carried": json.dumps(carried)})

    def is_valid(self) -> bool:
        forms_: list[Any] = [self.flows, self.carried]
        forms_ += [s.form for s in self.sections] + [s.rows for s in self.sections if s.rows]
        forms_ += [s.list_rows for s in self.sections if s.list_rows]
        return all([each.is_valid() for each in forms_])  # a list: every form shows its errors

    def document(self) -> dict[str, Any]:
        """The document the valid forms say, blank rows left out."""
        self._flow_forms = [form for form in self.flows.forms if not form.is_blank()]
        document: dict[str, Any] = {"data_flows": [form.flow() for form in self._flow_forms]}
        document.update(self.carried.cleaned_data["carried"])
        for section in self.sections:
            document[section.name] = section.part()
        return document

    def place(self, path: str, message: str) -> bool:
        """Show a refusal about ``path`` (in the document) next to its input. False when no
        input of these forms is about it."""
        flow = re.fullmatch(r"data_flows(?:\[(\d+)\])?(?:\.(\w+))?", path)
        if flow is not None:
            return self._place_flow(flow.group(1), flow.group(2), message)
        name, _dot, rest = path.partition(".")
        section = next((s for s in self.sections if s.name == name), None)
        if section is None:
            return False
        return _place_in_section(section, rest, message)

    def _place_flow(self, index: str | None, key: str | None, message: str) -> bool:
        forms_ = getattr(self, "_flow_forms", [])
        if index is None or int(index) >= len(forms_):
            self.flow_errors.append(message)
            return True
        form = forms_[int(index)]
        name = FLOW_KEYS.get(key or "")
        form.add_error(name, message)  # None (the row as a whole) for the joint-use notice
        return True


def _place_in_section(section: SectionForms, rest: str, message: str) -> bool:
    inputs = section.inputs
    if rest in section.form.fields:
        section.form.add_error(rest, message)
    elif section.rows is not None and rest.startswith(inputs.per_party_key):
        slug, _dot, key = rest.removeprefix(inputs.per_party_key).lstrip(".").partition(".")
        row = next((r for r in section.rows.forms if r.cleaned_data.get("party") == slug), None)
        if row is None:
            section.row_errors.append(message)
        else:
            row.add_error(key if key in row.fields else "party", message)
    elif section.list_rows is not None and rest.startswith(inputs.list_key):
        _place_in_list(section, rest.removeprefix(inputs.list_key), message)
    else:
        section.errors.append(message)
    return True


class CarriedForm(forms.Form):
    carried = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_carried(self) -> dict[str, Any]:
        try:
            carried = jsondepth.loads(self.cleaned_data["carried"] or "{}")
        except (json.JSONDecodeError, jsondepth.JSONTooDeepError):
            carried = None
        if not isinstance(carried, dict) or not set(carried) <= set(SECTIONS):
            raise forms.ValidationError(gettext("The form was changed: reload it."))
        return carried


def _place_in_list(section: SectionForms, rest: str, message: str) -> None:
    """``[2].coins`` of a list: the third filled row's input, or the rows as a whole."""
    found = re.fullmatch(r"\[(\d+)\](?:\.(\w+))?", rest)
    filled = [row for row in section.list_rows.forms if row.cleaned_data.get("party")]
    if found is None or int(found.group(1)) >= len(filled):
        section.list_errors.append(message)
        return
    row, key = filled[int(found.group(1))], found.group(2)
    row.add_error(key if key in row.fields else None, message)
