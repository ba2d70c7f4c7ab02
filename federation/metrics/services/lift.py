"""The lift of a company's reactivation bonus, or of a sampling campaign, over a period, kept
once the period is final.

A period is final when the activity rollup is complete through its last day; its figures are
then computed once and stored (``LiftResult``), and every later reading returns the same
numbers. A period still running is computed afresh each time and says so (``final``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from federation.campaigns.models import Campaign
from federation.campaigns.services.selection import campaign_key
from federation.coins.services.actions import action_key, reactivation_key
from federation.holdouts.selectors import holdout_named
from federation.metrics.errors import MetricsErrorCode
from federation.metrics.models import LiftResult
from federation.metrics.selectors import campaign_lift, complete_through, reactivation_lift
from partners.db import PRIMARY, replica_alias
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
    return _kept(
        company,
        key,
        start,
        end,
        dormant_days,
        lambda using: reactivation_lift(
            company, holdout, start=start, end=end, dormant_days=dormant_days, using=using
        ),
    )


def metrics_action_lift(
    company: Partner, action_type: str, *, start: date, end: date, dormant_days: int
) -> dict[str, Any]:
    """The lift of ``company``'s action-earning rule ``action_type`` over the members dormant
    when ``start`` came, as the reactivation bonus's: its holdout earns nothing by the rule.
    Raises ApplicationError: no_holdout."""
    key = action_key(company, action_type)
    holdout = holdout_named(key)
    if holdout is None:
        raise ApplicationError(
            MetricsErrorCode.NO_HOLDOUT,
            _("Your action rule %(action)s has held no member out yet.")
            % {"action": action_type[:100]},
        )
    return _kept(
        company,
        key,
        start,
        end,
        dormant_days,
        lambda using: reactivation_lift(
            company, holdout, start=start, end=end, dormant_days=dormant_days, using=using
        ),
    )


def metrics_campaign_lift(campaign: Campaign, *, start: date, end: date) -> dict[str, Any]:
    """``campaign``'s lift from ``start`` to ``end`` (Japan's days, both in): its drawn members
    against its holdout, at its partner. Raises ApplicationError: no_holdout."""
    key = campaign_key(campaign)
    holdout = holdout_named(key)
    if holdout is None:
        raise ApplicationError(
            MetricsErrorCode.NO_HOLDOUT, _("The campaign has not drawn its members yet.")
        )
    return _kept(
        campaign.partner,
        key,
        start,
        end,
        0,
        lambda using: campaign_lift(campaign, holdout, start=start, end=end, using=using),
    )


def _kept(
    company: Partner,
    key: str,
    start: date,
    end: date,
    dormant_days: int,
    compute: Callable[[str], dict[str, Any]],
) -> dict[str, Any]:
    """The figures ``compute`` gives on the database it is given: afresh while the period
    runs, else once and kept."""
    through = complete_through()
    if through is None or end > through:
        # Shown, not kept: the replica will do (partners.db).
        figures = compute(replica_alias())
        return {**figures, "final": False, "computed_at": timezone.now().isoformat()}
    found = dict(company=company, programme=key, start=start, end=end, dormant_days=dormant_days)
    kept = LiftResult.objects.filter(**found).first()
    if kept is None:
        # Kept for good, so read from the primary: the rollup ``complete_through`` just read
        # there may not have reached a lagging replica yet.
        figures = compute(PRIMARY)
        try:
            with transaction.atomic():
                kept = LiftResult.objects.create(**found, figures=figures)
        except IntegrityError:  # kept by a reading at the same moment: the same figures
            kept = LiftResult.objects.get(**found)
    return {**kept.figures, "final": True, "computed_at": kept.computed_at.isoformat()}
