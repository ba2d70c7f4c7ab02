"""What changed between two versions, in words: "Added flow: kirari → midori-fitness, purpose
…", "Removed field e-mail", "Referral fee changed from ¥500 to ¥800", in the active language.

Flows are matched by provider, recipient and purpose (as ``terms_diff`` matches them), parties
by company, and each registered section's inputs by key; a section registered without inputs
is compared as the document stores it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from consent.names import data_item_name
from federation.agreements.admin.readable import (
    NOTHING,
    basis_name,
    purpose_label,
    readable_flow,
    shown,
)
from federation.agreements.models import AgreementVersion
from federation.agreements.terms import (
    JOINT_USE_ITEM_NAMES,
    JOINT_USE_ITEMS,
    SECTION_INPUTS,
    TermsInput,
    TermsInputs,
    terms_diff,
)


@dataclass(frozen=True)
class Change:
    kind: str  # "added", "removed" or "changed": how the page marks it
    text: str


def _changed(what: str, old: str, new: str) -> Change:
    if old == NOTHING:
        return Change("added", _("%(what)s set to %(new)s.") % {"what": what, "new": new})
    if new == NOTHING:
        return Change("removed", _("%(what)s removed (was %(old)s).") % {"what": what, "old": old})
    return Change(
        "changed",
        _("%(what)s changed from %(old)s to %(new)s.") % {"what": what, "old": old, "new": new},
    )


def worded_diff(
    old: AgreementVersion, new: AgreementVersion, purposes: Mapping[str, str]
) -> list[Change]:
    """What changed from ``old`` to ``new``, in words: dates, parties and their contacts, then
    the terms. Reads the parties as prefetched with their partners (``version_list``)."""
    changes = _date_changes(old, new) + _party_changes(old, new)
    changes += _flow_changes(
        old.terms.get("data_flows") or [], new.terms.get("data_flows") or [], purposes
    )
    for name, inputs in SECTION_INPUTS.items():
        before, after = _part(old.terms.get(name)), _part(new.terms.get(name))
        changes += _input_changes(inputs.inputs, before, after, None)
        if inputs.per_party_key:
            rows_before = before.get(inputs.per_party_key) or {}
            rows_after = after.get(inputs.per_party_key) or {}
            for slug in sorted(set(rows_before) | set(rows_after)):
                changes += _input_changes(
                    inputs.per_party,
                    _part(rows_before.get(slug)),
                    _part(rows_after.get(slug)),
                    slug,
                )
        if inputs.list_key:
            changes += _list_changes(inputs, before, after)
    known = {"data_flows", *SECTION_INPUTS}
    for path, before, after in terms_diff(
        {k: v for k, v in old.terms.items() if k not in known},
        {k: v for k, v in new.terms.items() if k not in known},
    ):
        changes.append(_changed(path, _json(before), _json(after)))
    return changes


def _date_changes(old: AgreementVersion, new: AgreementVersion) -> list[Change]:
    changes = []
    for label, before, after in (
        (_("Effective from"), old.effective_from, new.effective_from),
        (_("Valid until"), old.valid_until, new.valid_until),
    ):
        if before != after:
            shown_before = date_format(before, "SHORT_DATE_FORMAT")
            changes.append(_changed(label, shown_before, date_format(after, "SHORT_DATE_FORMAT")))
    return changes


def _part(part: Any) -> Mapping[str, Any]:
    return part if isinstance(part, Mapping) else {}


def _json(value: Any) -> str:
    return NOTHING if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _input_changes(
    specs: tuple[TermsInput, ...], old: Mapping[str, Any], new: Mapping[str, Any], party: str | None
) -> list[Change]:
    changes = []
    for spec in specs:
        before, after = shown(spec, old.get(spec.key)), shown(spec, new.get(spec.key))
        if before != after:
            what = str(spec.label)
            if party is not None:
                what = _("%(what)s of %(party)s") % {"what": what, "party": party}
            changes.append(_changed(what, before, after))
    return changes


def _list_changes(
    inputs: TermsInputs, old: Mapping[str, Any], new: Mapping[str, Any]
) -> list[Change]:
    """Listed rows matched by party and their first ``code`` input (an action by its type),
    each compared input by input."""
    key = next((spec.key for spec in inputs.listed if spec.kind == "code"), "")
    specs = tuple(spec for spec in inputs.listed if spec.key != key)

    def keyed(part: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        rows = part.get(inputs.list_key)
        rows = [row for row in rows if isinstance(row, Mapping)] if isinstance(rows, list) else []
        return {f"{row.get('party')} {row.get(key, '')}".strip(): row for row in rows}

    before, after = keyed(old), keyed(new)
    changes: list[Change] = []
    for name in sorted(set(before) | set(after)):
        changes += _input_changes(specs, _part(before.get(name)), _part(after.get(name)), name)
    return changes


def _party_changes(old: AgreementVersion, new: AgreementVersion) -> list[Change]:
    def contacts(version: AgreementVersion) -> dict[str, str]:
        return {
            party.partner.slug: f"{party.contact_name} <{party.contact_email}>"
            for party in version.parties.all()
        }

    before, after = contacts(old), contacts(new)
    changes = []
    for slug in sorted(set(before) | set(after)):
        if slug not in before:
            text = _("Added company %(company)s (contact: %(contact)s).")
            changes.append(Change("added", text % {"company": slug, "contact": after[slug]}))
        elif slug not in after:
            changes.append(Change("removed", _("Removed company %(company)s.") % {"company": slug}))
        elif before[slug] != after[slug]:
            what = _("The contact of %(company)s") % {"company": slug}
            changes.append(_changed(what, before[slug], after[slug]))
    return changes


def _key(flow: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(flow.get("provider")), str(flow.get("recipient")), str(flow.get("purpose")))


def _flow_changes(
    old: list[Mapping[str, Any]], new: list[Mapping[str, Any]], purposes: Mapping[str, str]
) -> list[Change]:
    before, after = {_key(f): f for f in old}, {_key(f): f for f in new}
    changes = []
    for key in sorted(set(before) | set(after)):
        provider, recipient, purpose = key
        named = {"provider": provider, "recipient": recipient}
        named["purpose"] = purpose_label(purpose, purposes)
        if key not in before:
            flow = readable_flow(after[key], purposes)
            text = _(
                "Added flow: %(provider)s → %(recipient)s, purpose %(purpose)s, fields "
                "%(fields)s, on the basis of %(basis)s."
            ) % {**named, "fields": flow.fields, "basis": flow.basis.lower()}
            changes.append(Change("added", text))
        elif key not in after:
            text = _("Removed flow: %(provider)s → %(recipient)s, purpose %(purpose)s.")
            changes.append(Change("removed", text % named))
        else:
            flow_name = _("Flow %(provider)s → %(recipient)s, purpose %(purpose)s") % named
            changes += _within_flow(flow_name, before[key], after[key])
    return changes


def _within_flow(flow_name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    changes = []
    fields_before, fields_after = set(old.get("fields") or []), set(new.get("fields") or [])
    for field in sorted(fields_after - fields_before):
        text = _("%(flow)s: added field %(field)s.")
        changes.append(Change("added", text % {"flow": flow_name, "field": data_item_name(field)}))
    for field in sorted(fields_before - fields_after):
        text = _("%(flow)s: removed field %(field)s.")
        changes.append(
            Change("removed", text % {"flow": flow_name, "field": data_item_name(field)})
        )
    if old.get("legal_basis") != new.get("legal_basis"):
        what = _("%(flow)s: the legal basis") % {"flow": flow_name}
        changes.append(
            _changed(what, basis_name(old.get("legal_basis")), basis_name(new.get("legal_basis")))
        )
    notice_before, notice_after = _part(old.get("joint_use")), _part(new.get("joint_use"))
    for item in JOINT_USE_ITEMS:
        text_before = str(notice_before.get(item) or NOTHING)
        text_after = str(notice_after.get(item) or NOTHING)
        if text_before != text_after:
            what = _("%(flow)s: %(item)s") % {"flow": flow_name, "item": JOINT_USE_ITEM_NAMES[item]}
            changes.append(_changed(what, text_before, text_after))
    return changes
