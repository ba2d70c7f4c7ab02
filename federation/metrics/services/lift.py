"""The lift of a company's reactivation bonus over a period, kept once the period is final.

A period is final when the activity rollup is complete through its last day; its figures are
then computed once and stored (``LiftResult``), and every later reading returns the same
numbers. A period still running is computed afresh each time and says so (``final``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from federation.coins.services.actions import reactivation_key
from federation.holdouts.selectors import holdout_named
from federation.metrics.errors import MetricsErrorCode
from federation.metrics.models import LiftResult
from federation.metrics.selectors import complete_through, reactivation_lift
from partners.errors import ApplicationError
from partners.models import Partner


def metrics_reactivation_lift(
    company: Partner, *, start: date, end: date, dormant_days: int
) -> dict[str, Any]:
    """``company``'s reactivation lift from ``start`` to ``end`` (Japan's days, both in).
    Raises ApplicationError: no_holdout."""
    key = reactivation_key(company)
    holdout = holdout_named(key)
    if holdout is None:
        raise ApplicationError(
            MetricsErrorCode.NO_HOLDOUT,
            _("No member has come back to %(company)s's reactivation bonus yet.")
            % {"company": company.slug},
        )
    through = complete_through()
    final = through is not None and end <= through
    if not final:
        figures = reactivation_lift(
            company, holdout, start=start, end=end, dormant_days=dormant_days
        )
        return {**figures, "final": False, "computed_at": timezone.now().isoformat()}
    kept = LiftResult.objects.filter(
        company=company, programme=key, start=start, end=end, dormant_days=dormant_days
    ).first()
    if kept is None:
        figures = reactivation_lift(
            company, holdout, start=start, end=end, dormant_days=dormant_days
        )
        try:
            with transaction.atomic():
                kept = LiftResult.objects.create(
                    company=company,
                    programme=key,
                    start=start,
                    end=end,
                    dormant_days=dormant_days,
                    figures=figures,
                )
        except IntegrityError:  # kept by a reading at the same moment: the same figures
            kept = LiftResult.objects.get(
                company=company, programme=key, start=start, end=end, dormant_days=dormant_days
            )
    return {**kept.figures, "final": True, "computed_at": kept.computed_at.isoformat()}
