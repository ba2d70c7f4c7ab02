"""A version's terms as people read them, in the layout of the terms form: its data flows with
the purposes, fields and bases named, and each registered section's inputs with their values in
their units, as the active language writes numbers and amounts. The document stays as it is
stored (the API gives it as JSON); only its reading changes with the language."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import pgettext

from consent.models import Purpose
from consent.names import data_item_list
from federation.agreements.terms import (
    JOINT_USE_ITEM_NAMES,
    LEGAL_BASIS_NAMES,
    SECTION_INPUTS,
    UNITS,
    TermsInput,
    TermsInputs,
)

NOTHING = "—"


def purpose_names() -> dict[str, str]:
    """Each purpose's name in the active language, by code, for the pages that name them."""
    return {purpose.code: purpose.display_name for purpose in Purpose.objects.all()}


def shown(spec: TermsInput, value: Any) -> str:
    """An input's value as the active language writes it, in its unit: ``¥1,500``, 「1,500円」,
    ``30 days``."""
    if value is None or value == "":
        return NOTHING
    if spec.kind == "code":
        return str(value)
    if spec.kind == "yes_no":
        return pgettext("terms value", "Yes") if value else pgettext("terms value", "No")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return str(UNITS[spec.unit][1]) % {"value": number_format(number, force_grouping=True)}


def basis_name(code: Any) -> str:
    name = LEGAL_BASIS_NAMES.get(str(code))
    return str(name) if name is not None else str(code)


@dataclass(frozen=True)
class ReadableFlow:
    provider: str
    recipient: str
    purpose: str
    fields: str
    basis: str
    joint_use: list[tuple[str, str]]


@dataclass(frozen=True)
class ReadableSection:
    name: str
    title: str
    rows: list[tuple[str, str]]  # (label, value)
    party_title: str
    party_labels: list[str]
    party_rows: list[tuple[str, list[str]]]  # (party, values)
    list_title: str = ""
    list_labels: list[str] = field(default_factory=list)
    list_rows: list[tuple[str, list[str]]] = field(default_factory=list)  # (party, values)


@dataclass(frozen=True)
class ReadableTerms:
    flows: list[ReadableFlow]
    sections: list[ReadableSection]
    other: list[tuple[str, str]]  # sections registered without inputs, as JSON


def readable_flow(flow: Mapping[str, Any], purposes: Mapping[str, str]) -> ReadableFlow:
    purpose = str(flow.get("purpose"))
    return ReadableFlow(
        provider=str(flow.get("provider")),
        recipient=str(flow.get("recipient")),
        purpose=purpose_label(purpose, purposes),
        fields=data_item_list(flow.get("fields") or []),
        basis=basis_name(flow.get("legal_basis")),
        joint_use=[
            (str(JOINT_USE_ITEM_NAMES.get(item, item)), str(text))
            for item, text in (flow.get("joint_use") or {}).items()
        ],
    )


def purpose_label(code: str, purposes: Mapping[str, str]) -> str:
    name = purposes.get(code)
    return (
        pgettext("purpose", "%(name)s (%(code)s)") % {"name": name, "code": code} if name else code
    )


def readable_terms(document: Mapping[str, Any], purposes: Mapping[str, str]) -> ReadableTerms:
    sections = []
    for name, inputs in SECTION_INPUTS.items():
        part = document.get(name)
        part = part if isinstance(part, Mapping) else {}
        rows = part.get(inputs.per_party_key) or {} if inputs.per_party_key else {}
        sections.append(
            ReadableSection(
                name=name,
                title=str(inputs.title),
                rows=[(str(spec.label), shown(spec, part.get(spec.key))) for spec in inputs.inputs],
                party_title=str(inputs.per_party_title),
                party_labels=[str(spec.label) for spec in inputs.per_party],
                party_rows=[
                    (slug, [shown(spec, values.get(spec.key)) for spec in inputs.per_party])
                    for slug, values in sorted(rows.items())
                ],
                **_listed(inputs, part),
            )
        )
    known = {"data_flows", *SECTION_INPUTS}
    return ReadableTerms(
        flows=[readable_flow(flow, purposes) for flow in document.get("data_flows") or []],
        sections=sections,
        other=[
            (name, json.dumps(part, ensure_ascii=False, sort_keys=True))
            for name, part in sorted(document.items())
            if name not in known
        ],
    )


def _listed(inputs: TermsInputs, part: Mapping[str, Any]) -> dict[str, Any]:
    listed = part.get(inputs.list_key) if inputs.list_key else None
    rows = [row for row in listed if isinstance(row, Mapping)] if isinstance(listed, list) else []
    return {
        "list_title": str(inputs.list_title),
        "list_labels": [str(spec.label) for spec in inputs.listed],
        "list_rows": [
            (str(row.get("party")), [shown(spec, row.get(spec.key)) for spec in inputs.listed])
            for row in rows
        ],
    }


def readable_versions(documents: Iterable[Mapping[str, Any]]) -> list[ReadableTerms]:
    purposes = purpose_names()  # one query for every version of the page
    return [readable_terms(document, purposes) for document in documents]
