"""The terms document of an agreement version: its shape, its validation, and its diff.

A version's terms are stored as one canonical JSON document, so a version is compared, hashed
and shown as a whole, while the parts that features ask about (data flows) are read through
``federation.selectors.terms_in_force``::

    {
      "data_flows": [
        {"provider": "kirari", "recipient": "midori-fitness", "purpose": "cross_enrollment",
         "fields": ["name", "email", "age_band"], "legal_basis": "consent"},
        {"provider": "kirari", "recipient": "midori-fitness", "purpose": "research_survey",
         "fields": ["age_band", "prefecture"], "legal_basis": "joint_use",
         "joint_use": {"data_items": "...", "users_scope": "...", "purpose_of_use": "...",
                       "responsible_name": "...", "responsible_address": "...",
                       "responsible_representative": "..."}}
      ],
      "coin": {"exchange": true,
               "programs": {"kirari": {"yen_per_coin": "1.00", "rate_to_shared": "1"}}},
      "referral": {"fee_yen": "500", "fee_percent": null, "attribution_days": 30},
      "overlap": {"min_cell": 50}
    }

Joint use (APPI 共同利用) carries the items its public notice must state: the data items, the
scope of the joint users, their purpose of use, and the name, address and representative of
the party responsible (the fact of joint use is the flow itself).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from partners.member_columns import PERSONAL_FIELDS

# What a data flow may carry: the member's personal fields, and coarse segments computed on the
# day of use (an age band, never the birth date, is what research needs).
SEGMENT_FIELDS = ("age_band", "prefecture", "kind")
FLOW_FIELDS = PERSONAL_FIELDS + SEGMENT_FIELDS
LEGAL_BASES = ("consent", "joint_use")
JOINT_USE_ITEMS = (
    "data_items",
    "users_scope",
    "purpose_of_use",
    "responsible_name",
    "responsible_address",
    "responsible_representative",
)

# What people read for the codes of a data flow (the console's form, its readable versions and
# their diff); the codes themselves are what the document stores.
LEGAL_BASIS_NAMES: dict[str, Promise] = {
    "consent": gettext_lazy("Consent"),
    "joint_use": gettext_lazy("Joint use"),
}
JOINT_USE_ITEM_NAMES: dict[str, Promise] = {
    "data_items": gettext_lazy("Data used jointly"),
    "users_scope": gettext_lazy("Who uses it jointly"),
    "purpose_of_use": gettext_lazy("Purpose of the joint use"),
    "responsible_name": gettext_lazy("Responsible party"),
    "responsible_address": gettext_lazy("Its address"),
    "responsible_representative": gettext_lazy("Its representative"),
}


class TermsError(ValueError):
    """Terms that cannot be agreed: ``errors`` maps a path in the document to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{path}: {' '.join(msgs)}" for path, msgs in errors.items()))
        self.errors = errors


def decimal_text(value: Any, *, minimum: Decimal, maximum: Decimal) -> str | None:
    if isinstance(value, float):  # money and rates never pass through binary floating point
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or not minimum <= number <= maximum:
        return None
    return format(number.normalize(), "f")  # "500", "0.5": no exponent, no trailing zeros


@dataclass
class TermsContext:
    """What a section's check knows: the version's parties (slugs), the purpose catalogue, and
    where to report problems (by their path in the document)."""

    parties: set[str]
    purposes: set[str]
    errors: dict[str, list[str]] = field(default_factory=dict)

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)


# A section's check takes its raw part of the document (``MISSING`` when absent) and returns
# the part in canonical form, reporting problems through the context.
SectionCheck = Callable[[Any, TermsContext], Any]
MISSING: Any = object()
SECTIONS: dict[str, SectionCheck] = {}

# The units an input may be given in: what the form writes next to the input, and how a value
# is read in a sentence ("¥500", 「500円」).
UNITS: dict[str, tuple[Promise | str, Promise]] = {
    "yen": (pgettext_lazy("unit", "yen"), pgettext_lazy("amount", "¥%(value)s")),
    "percent": ("%", pgettext_lazy("amount", "%(value)s%%")),
    "days": (pgettext_lazy("unit", "days"), pgettext_lazy("amount", "%(value)s days")),
    "members": (pgettext_lazy("unit", "members"), pgettext_lazy("amount", "%(value)s members")),
    "": ("", pgettext_lazy("amount", "%(value)s")),
}
INPUT_KINDS = ("whole", "decimal", "yes_no", "code")


@dataclass(frozen=True)
class TermsInput:
    """One labelled input of a section in the console's terms form: the ``key`` it fills in
    the section's object, and its ``kind``, which decides the input and how its value is
    written: ``whole`` (an int), ``decimal`` (a decimal string, as money and rates are),
    ``yes_no`` (a bool) or ``code`` (a short identifier, such as an action type). A blank
    input leaves its key out, so the section's check applies its default. ``unit`` is a key
    of ``UNITS``."""

    key: str
    label: Promise | str
    kind: str = "whole"
    unit: str = ""
    help: Promise | str = ""

    def __post_init__(self) -> None:
        if self.kind not in INPUT_KINDS or self.unit not in UNITS:
            raise ValueError(f"Terms input {self.key!r}: unknown kind or unit")


@dataclass(frozen=True)
class TermsInputs:
    """What a section brings to the console: its ``title`` and ``inputs``, and inputs repeated
    for each party that takes part (``per_party``), written as an object keyed by party slug
    under ``per_party_key``, and rows of inputs any party may have several of (``listed``),
    written as a list of objects, each with its ``party``, under ``list_key``. An ``optional``
    section left blank is written as null."""

    title: Promise | str
    inputs: tuple[TermsInput, ...] = ()
    per_party_key: str = ""
    per_party_title: Promise | str = ""
    per_party: tuple[TermsInput, ...] = ()
    list_key: str = ""
    list_title: Promise | str = ""
    listed: tuple[TermsInput, ...] = ()
    optional: bool = False


# The console's inputs of each section that brought some; a section without inputs is carried
# from version to version as it stands.
SECTION_INPUTS: dict[str, TermsInputs] = {}


def register_terms_section(
    name: str, check: SectionCheck, *, inputs: TermsInputs | None = None
) -> None:
    """Add a part to the terms document. Each domain registers its own part from
    ``FederationConfig.ready``, so a new domain adds its terms without editing the others, and
    with them its ``inputs``: the console drafts the part through them, without editing it."""
    if name in SECTIONS:
        raise ValueError(f"Terms section registered twice: {name!r}")
    SECTIONS[name] = check
    if inputs is not None:
        SECTION_INPUTS[name] = inputs


def terms_clean(raw: Any, *, parties: Iterable[str], purposes: Iterable[str]) -> dict[str, Any]:
    """Validate a terms document against the version's parties (slugs) and the purpose
    catalogue, section by section, and return it in canonical form. Raises TermsError listing
    every problem."""
    if not isinstance(raw, Mapping):
        raise TermsError({"terms": [_("Give the terms as an object.")]})
    context = TermsContext(parties=set(parties), purposes=set(purposes))
    for key in sorted(set(raw) - set(SECTIONS)):
        context.fail(key, _("Unknown part of the terms."))
    clean = {name: check(raw.get(name, MISSING), context) for name, check in SECTIONS.items()}
    if context.errors:
        raise TermsError(context.errors)
    return clean


# --- Data flows: the agreement's own part -------------------------------------------------


def _clean_data_flows(raw: Any, context: TermsContext) -> list[dict[str, Any]]:
    if raw is MISSING or not isinstance(raw, list) or not raw:
        context.fail("data_flows", _("Give at least one data flow."))
        return []
    flows: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for index, flow in enumerate(raw):
        path = f"data_flows[{index}]"
        if not isinstance(flow, Mapping):
            context.fail(path, _("Give each data flow as an object."))
            continue
        key = (str(flow.get("provider")), str(flow.get("recipient")), str(flow.get("purpose")))
        if key in seen:
            context.fail(path, _("This provider, recipient and purpose already have a flow."))
        seen.add(key)
        flows.append(_clean_flow(flow, path, context))
    return sorted(flows, key=lambda f: (f["provider"], f["recipient"], f["purpose"]))


def _clean_flow(flow: Mapping[str, Any], path: str, context: TermsContext) -> dict[str, Any]:
    provider, recipient = flow.get("provider"), flow.get("recipient")
    purpose, basis = flow.get("purpose"), flow.get("legal_basis", "consent")
    fields = flow.get("fields")
    if provider not in context.parties:
        context.fail(f"{path}.provider", _("The provider must be a party to this version."))
    if recipient not in context.parties:
        context.fail(f"{path}.recipient", _("The recipient must be a party to this version."))
    if provider == recipient:
        context.fail(f"{path}.recipient", _("A company does not provide data to itself."))
    if purpose not in context.purposes:
        context.fail(f"{path}.purpose", _("Unknown purpose."))
    if basis not in LEGAL_BASES:
        context.fail(
            f"{path}.legal_basis", _("One of: %(choices)s.") % {"choices": ", ".join(LEGAL_BASES)}
        )
    if not isinstance(fields, list) or not fields:
        context.fail(f"{path}.fields", _("Name the member fields the recipient may receive."))
        fields = []
    bad = [item for item in fields if item not in FLOW_FIELDS]
    if bad:
        context.fail(
            f"{path}.fields",
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(map(str, bad))},
        )
    clean: dict[str, Any] = {
        "provider": provider,
        "recipient": recipient,
        "purpose": purpose,
        "fields": sorted(set(map(str, fields))),
        "legal_basis": basis,
    }
    if basis == "joint_use":
        clean["joint_use"] = _clean_joint_use(flow.get("joint_use"), path, context)
    elif "joint_use" in flow:
        context.fail(f"{path}.joint_use", _("Only a joint-use flow carries a joint-use notice."))
    return clean


def _clean_joint_use(notice: Any, path: str, context: TermsContext) -> dict[str, str] | None:
    if not isinstance(notice, Mapping):
        context.fail(f"{path}.joint_use", _("Joint use must state the items of its public notice."))
        return None
    missing = [
        item
        for item in JOINT_USE_ITEMS
        if not isinstance(notice.get(item), str) or not notice[item].strip()
    ]
    if missing:
        context.fail(f"{path}.joint_use", _("State: %(items)s.") % {"items": ", ".join(missing)})
    return {item: str(notice.get(item, "")).strip() for item in JOINT_USE_ITEMS}


register_terms_section("data_flows", _clean_data_flows)


def canonical(document: Any) -> str:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def terms_hash(document: Any) -> str:
    return hashlib.sha256(canonical(document).encode()).hexdigest()


def terms_diff(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Every leaf that differs between two documents, as (path, old, new). Data flows are
    matched by provider, recipient and purpose, not by position."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        changes: list[tuple[str, Any, Any]] = []
        for key in sorted(set(old) | set(new)):
            changes += terms_diff(old.get(key), new.get(key), f"{path}.{key}" if path else key)
        return changes
    if path.rsplit(".", 1)[-1] == "data_flows" and isinstance(old, list) and isinstance(new, list):

        def keyed(flows: list[Any]) -> dict[str, Any]:
            return {f"{f['provider']}→{f['recipient']}:{f['purpose']}": f for f in flows}

        return terms_diff(keyed(old), keyed(new), path)
    if old != new:
        return [(path, old, new)]
    return []
