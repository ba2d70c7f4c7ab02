"""Periods of an alliance and lines posted into them by other features (fees, adjustments)."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from federation.settlement.audit import SettlementAuditAction
from federation.settlement.errors import SettlementErrorCode
from federation.settlement.models import SettlementLine, SettlementPeriod
from federation.settlement.services.statements import statements_write
from partners.actors import Actor
from partners.errors import ApplicationError, validation_failed
from partners.models import Partner
from partners.services import audit_record

TOKYO = ZoneInfo("Asia/Tokyo")
OPEN = (SettlementPeriod.State.DRAFT, SettlementPeriod.State.REVIEW)


def tokyo_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=TOKYO)


def period_create(
    *, host: Partner, starts_on: date, ends_on: date, actor: Actor
) -> SettlementPeriod:
    """A draft period of ``host``'s alliance from ``starts_on`` to ``ends_on`` (Asia/Tokyo
    days, both included). Refused with ``period_overlap`` when it shares a day with another
    of the alliance's periods: checked here, and by PostgreSQL's exclusion constraint against
    a concurrent creation."""
    if ends_on < starts_on:
        raise validation_failed("ends_on", _("The last day cannot be before the first day."))
    period = SettlementPeriod(
        host=host,
        starts_on=starts_on,
        ends_on=ends_on,
        starts_at=tokyo_midnight(starts_on),
        ends_at=tokyo_midnight(date.fromordinal(ends_on.toordinal() + 1)),
    )
    period.full_clean()
    overlapping = SettlementPeriod.objects.filter(
        host=host, starts_on__lte=ends_on, ends_on__gte=starts_on
    )
    with transaction.atomic():
        if overlapping.exists():
            raise ApplicationError(SettlementErrorCode.PERIOD_OVERLAP)
        try:
            with transaction.atomic():
                period.save(force_insert=True)
        except IntegrityError as error:  # the exclusion constraint, racing another creation
            raise ApplicationError(SettlementErrorCode.PERIOD_OVERLAP) from error
        audit_record(
            action=SettlementAuditAction.PERIOD_CREATED,
            actor=actor,
            partner=host,
            target=period,
            detail={"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()},
        )
    return period


def period_create_month(*, host: Partner, year: int, month: int, actor: Actor) -> SettlementPeriod:
    """The default period: one calendar month (Asia/Tokyo days)."""
    last = calendar.monthrange(year, month)[1]
    return period_create(
        host=host, starts_on=date(year, month, 1), ends_on=date(year, month, last), actor=actor
    )


def next_open_period(after: SettlementPeriod) -> SettlementPeriod:
    """The alliance's first period after ``after`` still open (draft or in review), locked
    for the caller's transaction; ``no_open_period`` when there is none yet."""
    found = (
        SettlementPeriod.objects.select_for_update()
        .filter(host_id=after.host_id, starts_on__gt=after.ends_on, state__in=OPEN)
        .order_by("starts_on")
        .first()
    )
    if found is None:
        raise ApplicationError(SettlementErrorCode.NO_OPEN_PERIOD)
    return found


def settlement_line_post(
    *,
    host: Partner,
    on: date,
    kind: SettlementLine.Kind,
    debtor: Partner,
    creditor: Partner,
    amount_yen: Decimal,
    note: str,
    actor: Actor,
    adjusts: SettlementLine | None = None,
) -> SettlementLine:
    """Post a whole-yen line (a fee other features settle here, or an adjustment naming the
    line it corrects) into the alliance's period of day ``on`` while it is open, or else into
    the next open one (``no_open_period`` when none is). An open period's statements are
    rendered again at once."""
    if amount_yen != amount_yen.to_integral_value() or debtor.pk == creditor.pk:
        raise validation_failed("amount_yen", _("Whole yen between two different companies."))
    with transaction.atomic():
        period = (
            SettlementPeriod.objects.select_for_update()
            .filter(host=host, starts_on__lte=on, ends_on__gte=on)
            .first()
        )
        if period is None or period.is_closed:
            anchor = period or SettlementPeriod(host=host, ends_on=on)
            period = next_open_period(anchor)
        return line_post_into(
            period,
            kind=kind,
            debtor=debtor,
            creditor=creditor,
            amount_yen=amount_yen,
            note=note,
            adjusts=adjusts,
            actor=actor,
        )


def line_post_into(
    period: SettlementPeriod,
    *,
    kind: str,
    debtor: Partner | None,
    creditor: Partner | None,
    amount_yen: Decimal,
    note: str,
    adjusts: SettlementLine | None,
    actor: Actor,
) -> SettlementLine:
    """Post a line into ``period``, which the caller locked and found open."""
    line = SettlementLine(
        period=period,
        kind=kind,
        source=SettlementLine.Source.POSTED,
        debtor=debtor,
        creditor=creditor,
        exact_yen=amount_yen,
        amount_yen=amount_yen,
        adjusts=adjusts,
        note=note[:300],
    )
    line.full_clean()
    line.save(force_insert=True)
    if period.computed_at is not None:
        statements_write(period)
    audit_record(
        action=SettlementAuditAction.LINE_POSTED,
        actor=actor,
        partner=period.host,
        target=line,
        detail={"kind": kind, "amount_yen": str(amount_yen), "period": str(period.pk)},
    )
    return line
