"""The referral part of the agreement's terms: what a company earns for sending a customer to
another party, how long a click counts, and how long a fee stays open to refunds.

``{"fee_yen": "500", "fee_percent": null, "attribution_days": 30,
   "lead_fee_yen": "200", "review_days": 14}``

- ``fee_yen`` or ``fee_percent`` (exactly one): the fee for a sale, the referred member's first
  purchase, fixed in yen or as a percentage of its amount;
- ``attribution_days``: how long after a click a conversion is the referrer's;
- ``lead_fee_yen`` (optional): the fee for a lead, the referred member joining the
  destination's programme; absent, a lead earns nothing;
- ``review_days`` (optional, 14 when absent): how long a fee stays pending, open to refunds
  and disputes, before it is locked for settlement.

Either party may refer customers to the other under it; an offer may narrow it (a lower fee, a
shorter window) but never widen it. The two optional keys are written only when given, so the
canonical form, and so the hash, of a version agreed before they existed does not change.
Registered with the terms document from the referral domain's ``registrations``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from federation.agreements.terms import (
    MISSING,
    TermsContext,
    TermsInput,
    TermsInputs,
    decimal_text,
)

MAX_ATTRIBUTION_DAYS = 365
MAX_REVIEW_DAYS = 365
DEFAULT_REVIEW_DAYS = 14
MAX_FEE_YEN = Decimal(10_000_000)


def _whole_days(value: Any, *, least: int, most: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and least <= value <= most


def clean_referral_terms(raw: Any, context: TermsContext) -> dict[str, Any] | None:
    if raw is MISSING or raw is None:
        return None
    if not isinstance(raw, Mapping):
        context.fail("referral", _("Give fee_yen or fee_percent, and attribution_days."))
        return None
    fee_yen, fee_percent = raw.get("fee_yen"), raw.get("fee_percent")
    days = raw.get("attribution_days")
    if (fee_yen is None) == (fee_percent is None):
        context.fail("referral", _("Give exactly one of fee_yen and fee_percent."))
    yen = percent = None
    if fee_yen is not None:
        yen = decimal_text(fee_yen, minimum=Decimal(0), maximum=MAX_FEE_YEN)
        if yen is None:
            context.fail("referral.fee_yen", _("A decimal string of yen, 0 to 10,000,000."))
    if fee_percent is not None:
        percent = decimal_text(fee_percent, minimum=Decimal(0), maximum=Decimal(100))
        if percent is None:
            context.fail("referral.fee_percent", _("A decimal string from 0 to 100."))
    if not _whole_days(days, least=1, most=MAX_ATTRIBUTION_DAYS):
        context.fail(
            "referral.attribution_days",
            _("Whole days from 1 to %(most)s.") % {"most": MAX_ATTRIBUTION_DAYS},
        )
    clean: dict[str, Any] = {"fee_yen": yen, "fee_percent": percent, "attribution_days": days}
    return clean | _clean_optional(raw, context)


def _clean_optional(raw: Mapping[str, Any], context: TermsContext) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    unknown = sorted(set(raw) - {"fee_yen", "fee_percent", "attribution_days"} - OPTIONAL_KEYS)
    for key in unknown:
        context.fail(f"referral.{key}", _("Unknown part of the terms."))
    if raw.get("lead_fee_yen") is not None:
        lead = decimal_text(raw["lead_fee_yen"], minimum=Decimal(0), maximum=MAX_FEE_YEN)
        if lead is None:
            context.fail("referral.lead_fee_yen", _("A decimal string of yen, 0 to 10,000,000."))
        clean["lead_fee_yen"] = lead
    if raw.get("review_days") is not None:
        if not _whole_days(raw["review_days"], least=0, most=MAX_REVIEW_DAYS):
            context.fail(
                "referral.review_days",
                _("Whole days from 0 to %(most)s.") % {"most": MAX_REVIEW_DAYS},
            )
        clean["review_days"] = raw["review_days"]
    return clean


OPTIONAL_KEYS = {"lead_fee_yen", "review_days"}


def review_days_of(referral: Mapping[str, Any]) -> int:
    """The review period of a (clean) referral section, its default when it names none."""
    days = referral.get("review_days")
    return DEFAULT_REVIEW_DAYS if days is None else int(days)


REFERRAL_INPUTS = TermsInputs(
    title=gettext_lazy("Referrals"),
    inputs=(
        TermsInput(
            "fee_yen",
            gettext_lazy("Referral fee"),
            kind="decimal",
            unit="yen",
            help=gettext_lazy("Per first purchase (sale); give this or the percentage."),
        ),
        TermsInput(
            "fee_percent",
            gettext_lazy("Referral fee as a percentage"),
            kind="decimal",
            unit="percent",
            help=gettext_lazy("A share instead of a fixed fee; 0 to 100."),
        ),
        TermsInput(
            "attribution_days",
            gettext_lazy("Attribution window"),
            unit="days",
            help=gettext_lazy("How long a referral counts: 1 to 365 days."),
        ),
        TermsInput(
            "lead_fee_yen",
            gettext_lazy("Fee per lead"),
            kind="decimal",
            unit="yen",
            help=gettext_lazy("Per referred member who joins the programme; blank: none."),
        ),
        TermsInput(
            "review_days",
            gettext_lazy("Review period"),
            unit="days",
            help=gettext_lazy(
                "A fee stays open to refunds this long before it is locked; blank: 14 days."
            ),
        ),
    ),
    optional=True,
)
