"""The sampling part of the agreement's terms: who ships a campaign's product.

``{"shipper": "partner"}`` (the partner's own logistics take the shipment list: a provision
record per member, under the ``sampling_shipment`` flow's fields) or ``{"shipper": "host"}``
(the host's delivery staff ship it with their own rounds: the host's data never leaves it, so
the host takes the list, by member number, and nothing is provided to the partner). Absent, the
partner ships. Registered with the terms document from the campaign domain's
``registrations``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from federation.agreements.terms import MISSING, TermsContext, TermsInput, TermsInputs

HOST, PARTNER = "host", "partner"
SHIPPERS = (HOST, PARTNER)

SAMPLING_INPUTS = TermsInputs(
    title=gettext_lazy("Sampling"),
    inputs=(
        TermsInput(
            "shipper",
            gettext_lazy("Who ships"),
            kind="code",
            help=gettext_lazy(
                "host: the host's delivery staff; partner: the partner (blank: the partner)."
            ),
        ),
    ),
    optional=True,
)


def clean_sampling_terms(raw: Any, context: TermsContext) -> dict[str, Any] | None:
    if raw is MISSING or raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) - {"shipper"}:
        context.fail("sampling", _("Give shipper: host or partner."))
        return None
    shipper = raw.get("shipper", PARTNER)
    if shipper not in SHIPPERS:
        context.fail("sampling.shipper", _("host or partner."))
    return {"shipper": shipper}


def shipper_of(terms: Mapping[str, Any]) -> str:
    """Who ships under a version's terms document."""
    return str((terms.get("sampling") or {}).get("shipper", PARTNER))
