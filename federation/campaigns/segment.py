"""A campaign's target segment: its one definition, cleaned from what a partner sends and
applied as an SQL condition on the host's member rows (``a``), for the reach and the draw
alike, so that what the partner was told it reaches is what is drawn from."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from django.utils.translation import gettext as _

# The overlap's own age bands, reused so both features band members alike.
from federation.overlap.services import segment_sql
from partners.errors import validation_failed
from partners.models import MemberAccount

AGE_BANDS = ("under-20", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+")
_PREFECTURE = re.compile(r"^(0[1-9]|[1-3][0-9]|4[0-7])$")
KEYS = ("age_bands", "prefectures", "kinds", "active_within_days", "dormant_for_days")


def _codes(raw: dict[str, Any], key: str, valid: Any) -> list[str]:
    values = raw.get(key) or []
    if not isinstance(values, list) or not all(isinstance(v, str) and valid(v) for v in values):
        raise validation_failed(f"segment.{key}", _("A list of valid codes."))
    return sorted(set(values))


def _days(raw: dict[str, Any], key: str) -> int | None:
    days = raw.get(key)
    if days is None:
        return None
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650:
        raise validation_failed(f"segment.{key}", _("A number of days from 1 to 3650."))
    return days


def clean_segment(raw: Any) -> dict[str, Any]:
    """The segment in its stored form; an empty list means every value. Raises
    ApplicationError validation_failed naming the part that is wrong."""
    if not isinstance(raw, dict) or set(raw) - set(KEYS):
        raise validation_failed("segment", _("An object of: %(keys)s.") % {"keys": ", ".join(KEYS)})
    segment = {
        "age_bands": _codes(raw, "age_bands", lambda v: v in AGE_BANDS),
        "prefectures": _codes(raw, "prefectures", _PREFECTURE.match),
        "kinds": _codes(raw, "kinds", lambda v: v in MemberAccount.Kind.values),
        "active_within_days": _days(raw, "active_within_days"),
        "dormant_for_days": _days(raw, "dormant_for_days"),
    }
    if segment["active_within_days"] and segment["dormant_for_days"]:
        raise validation_failed(
            "segment.dormant_for_days", _("Either active within or dormant for, not both.")
        )
    return segment


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(['%s'] * len(values))})"


def segment_where(segment: dict[str, Any], *, today: date) -> tuple[str, list[Any]]:
    """The segment as an SQL condition on the member row ``a`` (status and base are the
    caller's): the age bands are the overlap's own bands (``segment_sql``)."""
    conditions: list[str] = []
    params: list[Any] = []
    if segment["age_bands"]:
        band, band_params = segment_sql("age_band")
        conditions.append(_in(f"({band})", segment["age_bands"]))
        params += [*band_params, *segment["age_bands"]]
    if segment["prefectures"]:
        conditions.append(_in("a.prefecture", segment["prefectures"]))
        params += segment["prefectures"]
    if segment["kinds"]:
        conditions.append(_in("a.kind", segment["kinds"]))
        params += segment["kinds"]
    if segment["active_within_days"]:
        conditions.append("a.last_active_on >= %s")
        params.append(today - timedelta(days=segment["active_within_days"]))
    if segment["dormant_for_days"]:
        conditions.append("(a.last_active_on IS NULL OR a.last_active_on < %s)")
        params.append(today - timedelta(days=segment["dormant_for_days"]))
    return " AND ".join(conditions) or "TRUE", params
