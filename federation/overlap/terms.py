"""The overlap part of the agreement's terms: the smallest cell a question may show.

Registered with the terms document in ``FederationConfig.ready``.
"""

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from federation.agreements.terms import MISSING, TermsContext, TermsInput, TermsInputs

# What the overlap part brings to the console's terms form.
OVERLAP_INPUTS = TermsInputs(
    title=gettext_lazy("Overlap counts"),
    inputs=(
        TermsInput(
            "min_cell",
            gettext_lazy("Smallest cell shown"),
            unit="members",
            help=gettext_lazy(
                "Overlap counts below this are not shown; at least the alliance's floor, which "
                "applies when left blank."
            ),
        ),
    ),
)


def min_cell_floor() -> int:
    """The smallest overlap cell the alliance shows (SANPO_OVERLAP_MIN_CELL_FLOOR): an
    agreement may raise it, never lower it. Read at each use, so raising the floor also holds
    agreements signed before."""
    floor: int = settings.SANPO_OVERLAP_MIN_CELL_FLOOR
    return floor


def effective_min_cell(agreed: int) -> int:
    """The threshold an overlap question applies: the agreement's, or the floor if higher."""
    return max(agreed, min_cell_floor())


def clean_overlap_terms(raw: Any, context: TermsContext) -> dict[str, Any]:
    """``{"min_cell": n}``: at least the alliance's floor, which is also the default."""
    floor = min_cell_floor()
    if raw is MISSING:
        raw = {}
    min_cell = raw.get("min_cell", floor) if isinstance(raw, dict) else None
    if not isinstance(min_cell, int) or isinstance(min_cell, bool) or min_cell < floor:
        context.fail(
            "overlap.min_cell",
            _("A whole number of members, at least the alliance's floor of %(floor)s.")
            % {"floor": floor},
        )
    return {"min_cell": min_cell}
