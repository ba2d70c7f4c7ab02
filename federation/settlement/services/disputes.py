"""Disputes: a party of a line disagreeing with it while its period is in review, and the
host's resolution. An accepted dispute never edits its line: the correction becomes an
adjustment line in the next open period, naming the line it corrects."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from federation.settlement.audit import SettlementAuditAction
from federation.settlement.errors import SettlementErrorCode
from federation.settlement.models import SettlementDispute, SettlementLine, SettlementPeriod
from federation.settlement.services.periods import line_post_into, next_open_period
from partners.actors import Actor
from partners.errors import ApplicationError, not_found, validation_failed
from partners.models import Partner
from partners.services import audit_record, webhook_emit


def _parties(line: SettlementLine) -> list[Partner]:
    return [p for p in (line.debtor, line.creditor) if p is not None]


def dispute_raise(
    line: SettlementLine,
    *,
    partner: Partner,
    reason: str,
    actor: Actor,
    now: datetime | None = None,
) -> SettlementDispute:
    """``partner`` disputes ``line`` of a period in review, with its ``reason``. A line the
    partner is no party of is a 404 like a missing one; outside review ``period_state``; a
    second open dispute of the same company on the line ``already_disputed``."""
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise validation_failed("reason", _("Say why the line is wrong."))
    with transaction.atomic():
        period = SettlementPeriod.objects.select_for_update().get(pk=line.period_id)
        if partner.pk not in (line.debtor_id, line.creditor_id):
            raise not_found(_("settlement line"))
        if period.state != SettlementPeriod.State.REVIEW:
            raise ApplicationError(SettlementErrorCode.PERIOD_STATE, extra={"state": period.state})
        dispute = SettlementDispute(line=line, raised_by=partner, reason=reason, raised_at=now)
        dispute.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                dispute.save(force_insert=True)
        except IntegrityError as error:
            raise ApplicationError(SettlementErrorCode.ALREADY_DISPUTED) from error
        audit_record(
            action=SettlementAuditAction.DISPUTE_RAISED,
            actor=actor,
            partner=partner,
            target=dispute,
            detail={"line": line.pk, "period": str(period.pk)},
        )
        for party in _parties(line):
            webhook_emit(
                partner=party,
                event_type="settlement.dispute_raised",
                data={"dispute_id": str(dispute.pk), "line_id": line.pk, "by": partner.slug},
            )
    return dispute


def dispute_resolve(
    dispute: SettlementDispute,
    *,
    accepted: bool,
    resolution: str,
    actor: Actor,
    correction_yen: Decimal | None = None,
    now: datetime | None = None,
) -> SettlementDispute:
    """The host's answer to an open dispute (``dispute_resolved`` once answered). Accepted,
    ``correction_yen`` (whole yen, not zero; positive when the line's debtor owes more) is
    posted as an adjustment of the line into the next open period of the alliance
    (``no_open_period`` when there is none yet: create it first)."""
    now = now or timezone.now()
    with transaction.atomic():
        dispute = (
            SettlementDispute.objects.select_for_update(of=("self",))
            .select_related("line__period__host", "line__debtor", "line__creditor")
            .get(pk=dispute.pk)
        )
        if dispute.state != SettlementDispute.State.OPEN:
            raise ApplicationError(SettlementErrorCode.DISPUTE_RESOLVED)
        line = dispute.line
        if accepted:
            if correction_yen is None or correction_yen == 0 or correction_yen % 1:
                raise validation_failed(
                    "correction_yen", _("An accepted dispute needs a correction in whole yen.")
                )
            dispute.adjustment = line_post_into(
                next_open_period(line.period),
                kind=SettlementLine.Kind.ADJUSTMENT,
                debtor=line.debtor,
                creditor=line.creditor,
                amount_yen=correction_yen,
                note=f"dispute {dispute.pk}",
                adjusts=line,
                actor=actor,
            )
        dispute.state = (
            SettlementDispute.State.ACCEPTED if accepted else SettlementDispute.State.REJECTED
        )
        dispute.resolution, dispute.resolved_at = resolution.strip()[:2000], now
        dispute.save(update_fields=["state", "resolution", "resolved_at", "adjustment"])
        audit_record(
            action=SettlementAuditAction.DISPUTE_RESOLVED,
            actor=actor,
            partner=line.period.host,
            target=dispute,
            detail={"state": dispute.state, "correction_yen": str(correction_yen or 0)},
        )
        for party in _parties(line):
            webhook_emit(
                partner=party,
                event_type="settlement.dispute_resolved",
                data={"dispute_id": str(dispute.pk), "line_id": line.pk, "state": dispute.state},
            )
    return dispute
