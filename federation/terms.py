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
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings

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
MAX_ATTRIBUTION_DAYS = 365


def min_cell_floor() -> int:
    """The smallest overlap cell the alliance shows (SANPO_OVERLAP_MIN_CELL_FLOOR): an
    agreement may raise it, never lower it. Read at each use, so raising the floor also holds
    agreements signed before."""
    floor: int = settings.SANPO_OVERLAP_MIN_CELL_FLOOR
    return floor


def effective_min_cell(agreed: int) -> int:
    """The threshold an overlap question applies: the agreement's, or the floor if higher."""
    return max(agreed, min_cell_floor())


class TermsError(ValueError):
    """Terms that cannot be agreed: ``errors`` maps a path in the document to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{path}: {' '.join(msgs)}" for path, msgs in errors.items()))
        self.errors = errors


def _decimal(value: Any, *, minimum: Decimal, maximum: Decimal) -> str | None:
    if isinstance(value, float):  # money and rates never pass through binary floating point
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or not minimum <= number <= maximum:
        return None
    return format(number.normalize(), "f")  # "500", "0.5": no exponent, no trailing zeros


def terms_clean(raw: Any, *, parties: Iterable[str], purposes: Iterable[str]) -> dict[str, Any]:
    """Validate a terms document against the version's parties (slugs) and the purpose
    catalogue, and return it in canonical form. Raises TermsError listing every problem."""
    party_set, purpose_set = set(parties), set(purposes)
    errors: dict[str, list[str]] = {}

    def fail(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    if not isinstance(raw, Mapping):
        raise TermsError({"terms": ["Give the terms as an object."]})
    unknown = set(raw) - {"data_flows", "coin", "referral", "overlap"}
    for key in sorted(unknown):
        fail(key, "Unknown part of the terms.")

    flows: list[dict[str, Any]] = []
    raw_flows = raw.get("data_flows", [])
    if not isinstance(raw_flows, list) or not raw_flows:
        fail("data_flows", "Give at least one data flow.")
        raw_flows = []
    seen: set[tuple[str, str, str]] = set()
    for index, flow in enumerate(raw_flows):
        path = f"data_flows[{index}]"
        if not isinstance(flow, Mapping):
            fail(path, "Give each data flow as an object.")
            continue
        provider, recipient = flow.get("provider"), flow.get("recipient")
        purpose, basis = flow.get("purpose"), flow.get("legal_basis", "consent")
        fields = flow.get("fields")
        if provider not in party_set:
            fail(f"{path}.provider", "The provider must be a party to this version.")
        if recipient not in party_set:
            fail(f"{path}.recipient", "The recipient must be a party to this version.")
        if provider == recipient:
            fail(f"{path}.recipient", "A company does not provide data to itself.")
        if purpose not in purpose_set:
            fail(f"{path}.purpose", "Unknown purpose.")
        if basis not in LEGAL_BASES:
            fail(f"{path}.legal_basis", f"One of: {', '.join(LEGAL_BASES)}.")
        if not isinstance(fields, list) or not fields:
            fail(f"{path}.fields", "Name the member fields the recipient may receive.")
            fields = []
        bad = [field for field in fields if field not in FLOW_FIELDS]
        if bad:
            fail(f"{path}.fields", f"Unknown fields: {', '.join(map(str, bad))}.")
        key = (str(provider), str(recipient), str(purpose))
        if key in seen:
            fail(path, "This provider, recipient and purpose already have a flow.")
        seen.add(key)
        clean: dict[str, Any] = {
            "provider": provider,
            "recipient": recipient,
            "purpose": purpose,
            "fields": sorted(set(map(str, fields))),
            "legal_basis": basis,
        }
        if basis == "joint_use":
            notice = flow.get("joint_use")
            if not isinstance(notice, Mapping):
                fail(f"{path}.joint_use", "Joint use must state the items of its public notice.")
            else:
                missing = [
                    item
                    for item in JOINT_USE_ITEMS
                    if not isinstance(notice.get(item), str) or not notice[item].strip()
                ]
                if missing:
                    fail(f"{path}.joint_use", f"State: {', '.join(missing)}.")
                clean["joint_use"] = {
                    item: str(notice.get(item, "")).strip() for item in JOINT_USE_ITEMS
                }
        elif "joint_use" in flow:
            fail(f"{path}.joint_use", "Only a joint-use flow carries a joint-use notice.")
        flows.append(clean)

    coin_raw = raw.get("coin", {"exchange": False, "programs": {}})
    coin: dict[str, Any] = {"exchange": False, "programs": {}}
    if not isinstance(coin_raw, Mapping) or not isinstance(coin_raw.get("exchange"), bool):
        fail("coin.exchange", "Say whether coins move between the parties' programs (true/false).")
    else:
        coin["exchange"] = coin_raw["exchange"]
        programs = coin_raw.get("programs", {})
        if not isinstance(programs, Mapping):
            fail("coin.programs", "Give the programs as an object keyed by party.")
            programs = {}
        for slug, program in programs.items():
            path = f"coin.programs.{slug}"
            if slug not in party_set:
                fail(path, "Only a party runs a coin program here.")
                continue
            if not isinstance(program, Mapping):
                fail(path, "Give yen_per_coin and rate_to_shared.")
                continue
            yen = _decimal(
                program.get("yen_per_coin"), minimum=Decimal("0.01"), maximum=Decimal(1000)
            )
            rate = _decimal(
                program.get("rate_to_shared"), minimum=Decimal("0.0001"), maximum=Decimal(10000)
            )
            if yen is None:
                fail(
                    f"{path}.yen_per_coin",
                    "The yen each issued coin is funded with: a decimal string from 0.01 to 1000.",
                )
            if rate is None:
                fail(
                    f"{path}.rate_to_shared",
                    "Shared coins per program coin: a decimal string from 0.0001 to 10000.",
                )
            coin["programs"][slug] = {"yen_per_coin": yen, "rate_to_shared": rate}
        if coin["exchange"] and len(coin["programs"]) < 2:
            fail("coin.programs", "Coin exchange needs the programs of at least two parties.")

    referral_raw = raw.get("referral")
    referral: dict[str, Any] | None = None
    if referral_raw is not None:
        if not isinstance(referral_raw, Mapping):
            fail("referral", "Give fee_yen or fee_percent, and attribution_days.")
        else:
            fee_yen = referral_raw.get("fee_yen")
            fee_percent = referral_raw.get("fee_percent")
            days = referral_raw.get("attribution_days")
            if (fee_yen is None) == (fee_percent is None):
                fail("referral", "Give exactly one of fee_yen and fee_percent.")
            yen = (
                _decimal(fee_yen, minimum=Decimal(0), maximum=Decimal(10_000_000))
                if fee_yen is not None
                else None
            )
            percent = (
                _decimal(fee_percent, minimum=Decimal(0), maximum=Decimal(100))
                if fee_percent is not None
                else None
            )
            if fee_yen is not None and yen is None:
                fail("referral.fee_yen", "A decimal string of yen, 0 to 10,000,000.")
            if fee_percent is not None and percent is None:
                fail("referral.fee_percent", "A decimal string from 0 to 100.")
            if (
                not isinstance(days, int)
                or isinstance(days, bool)
                or not 1 <= days <= MAX_ATTRIBUTION_DAYS
            ):
                fail("referral.attribution_days", f"Whole days from 1 to {MAX_ATTRIBUTION_DAYS}.")
            referral = {"fee_yen": yen, "fee_percent": percent, "attribution_days": days}

    overlap_raw = raw.get("overlap", {})
    floor = min_cell_floor()
    min_cell = overlap_raw.get("min_cell", floor) if isinstance(overlap_raw, Mapping) else None
    if not isinstance(min_cell, int) or isinstance(min_cell, bool) or min_cell < floor:
        fail(
            "overlap.min_cell",
            f"A whole number of members, at least the alliance's floor of {floor}.",
        )

    if errors:
        raise TermsError(errors)
    return {
        "data_flows": sorted(flows, key=lambda f: (f["provider"], f["recipient"], f["purpose"])),
        "coin": coin,
        "referral": referral,
        "overlap": {"min_cell": min_cell},
    }


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
