"""The sampling part of the agreement's terms: who ships a campaign's product.

Absent (``{"host_ships": false}`` is written so): the partner's own logistics take the
shipment list, a provision record per member, under the ``sampling_shipment`` flow's fields.
``{"host_ships": true}``: the host's delivery staff ship it on their own rounds; the host's
data never leaves it, so the host takes the list, by member number, and nothing is provided
to the partner. Registered with the terms document from the campaign domain's
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
            "host_ships",
            gettext_lazy("The host's delivery staff ship the samples"),
            kind="yes_no",
            help=gettext_lazy("Otherwise the partner ships them."),
        ),
    ),
    optional=True,
)


def clean_sampling_terms(raw: Any, context: TermsContext) -> dict[str, Any] | None:
    if raw is MISSING or raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) - {"host_ships"}:
        context.fail("sampling", _("Give host_ships: true or false."))
        return None
    host_ships = raw.get("host_ships", False)
    if not isinstance(host_ships, bool):
        context.fail("sampling.host_ships", _("true or false."))
    # The partner shipping is the default, written as no sampling part at all: one canonical
    # form, so a version drafted with the box unticked hashes like one drafted without it.
    return {"host_ships": True} if host_ships is True else None


def shipper_of(terms: Mapping[str, Any]) -> str:
    """Who ships under a version's terms document: ``HOST`` or ``PARTNER``."""
    return HOST if (terms.get("sampling") or {}).get("host_ships") is True else PARTNER
