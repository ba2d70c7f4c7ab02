"""A period's life: computed while a draft, opened for review, locked, its statements issued,
then paid. Every move locks the period's row first (``select_for_update``), so two runs of the
same period, or a lock racing a computation, take turns: the second sees what the first did.
Every move is audited and told to the period's companies by webhook."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from federation.settlement.audit import SettlementAuditAction
from federation.settlement.errors import SettlementErrorCode
from federation.settlement.models import (
    SettlementAcknowledgement,
    SettlementDispute,
    SettlementLine,
    SettlementPayment,
    SettlementPeriod,
    SettlementRun,
    SettlementStatement,
)
from federation.settlement.services.computation import Amount, period_amounts
from federation.settlement.services.runs import Progress
from federation.settlement.services.statements import (
    canonical,
    ordered_lines,
    render,
    statements_write,
)
from federation.settlement.signing import sign
from partners.actors import Actor
from partners.errors import ApplicationError, validation_failed
from partners.services import audit_record, webhook_emit

State = SettlementPeriod.State
RunStage = SettlementRun.Stage


def _locked(period: SettlementPeriod, *states: str) -> SettlementPeriod:
    # The period's row lock: one computation or move of a period at a time.
    locked = (
        SettlementPeriod.objects.select_for_update(of=("self",))
        .select_related("host")
        .get(pk=period.pk)
    )
    if locked.state not in states:
        raise ApplicationError(SettlementErrorCode.PERIOD_STATE, extra={"state": locked.state})
    return locked


def _tell(period: SettlementPeriod, event_type: str, **data: Any) -> None:
    """Every company with a statement in the period hears of the move."""
    for statement in period.statements.select_related("partner"):
        webhook_emit(
            partner=statement.partner,
            event_type=event_type,
            data={
                "period_id": str(period.pk),
                "first_day": period.starts_on.isoformat(),
                "last_day": period.ends_on.isoformat(),
                "net_yen": str(statement.net_yen),
                **data,
            },
        )


def _audit(period: SettlementPeriod, action: str, actor: Actor, **detail: Any) -> None:
    audit_record(action=action, actor=actor, partner=period.host, target=period, detail=detail)


def _write_lines(period: SettlementPeriod, progress: Progress | None = None) -> int:
    """Replace the period's computed lines by a fresh computation, and its statements."""
    period.lines.filter(source=SettlementLine.Source.COMPUTED).delete()
    amounts = period_amounts(period)
    if progress is not None:
        progress.stage(RunStage.STATEMENTS, 70)
    SettlementLine.objects.bulk_create(
        SettlementLine(
            period=period,
            kind=a.kind,
            source=SettlementLine.Source.COMPUTED,
            debtor_id=a.debtor_id,
            creditor_id=a.creditor_id,
            coins=a.coins,
            exact_yen=a.exact_yen,
            amount_yen=a.amount_yen,
            adjusts_id=a.adjusts_id,
            note=a.note,
        )
        for a in amounts
    )
    statements_write(period)
    return len(amounts)


def period_compute(
    period: SettlementPeriod,
    *,
    actor: Actor,
    now: datetime | None = None,
    run_id: int | None = None,
) -> SettlementPeriod:
    """Compute a draft period's lines and provisional statements from the ledger, all or
    nothing (``period_state`` unless a draft). A second run waits for the first and gives the
    same figures. Its progress is the run ``run_id`` (a new one if not given), moved through
    its stages where the console and the API see it while it runs."""
    now = now or timezone.now()
    progress = Progress(period.pk, run_id)
    try:
        progress.stage(RunStage.WAITING, 0)
        with transaction.atomic():
            period = _locked(period, State.DRAFT)
            progress.stage(RunStage.READING, 10)
            lines = _write_lines(period, progress)
            period.computed_at = now
            period.save(update_fields=["computed_at"])
            _audit(period, SettlementAuditAction.COMPUTED, actor, lines=lines)
        progress.stage(RunStage.DONE, 100)
    except BaseException:
        with suppress(DatabaseError):
            progress.stage(RunStage.FAILED)
        raise
    finally:
        progress.close()
    return period


def period_review_open(
    period: SettlementPeriod, *, actor: Actor, now: datetime | None = None
) -> SettlementPeriod:
    """Compute the draft once more, now that its last day is over (``period_not_over``
    before), and show the companies their provisional figures: they may dispute lines until
    it is locked. The lines are fixed from here on."""
    now = now or timezone.now()
    if now >= period.ends_at:
        _await_postings_in_flight()
    with transaction.atomic():
        period = _locked(period, State.DRAFT)
        if now < period.ends_at:
            raise ApplicationError(SettlementErrorCode.PERIOD_NOT_OVER)
        _write_lines(period)
        period.state, period.computed_at, period.review_opened_at = State.REVIEW, now, now
        period.save(update_fields=["state", "computed_at", "review_opened_at"])
        _audit(period, SettlementAuditAction.REVIEW_OPENED, actor)
        _tell(period, "settlement.review_opened")
    return period


def _await_postings_in_flight() -> None:
    """Wait until every coin posting in flight has committed or rolled back (PostgreSQL), so
    that the review's computation sees a posting stamped inside the period that was still
    committing when the period ended. A posting holds ROW EXCLUSIVE on the transaction table
    from its insert to its commit, and SHARE conflicts with it: taking SHARE waits them out.
    Taken in a transaction of its own and let go at once, it holds new postings back only for
    that wait (nested in a caller's transaction, until the caller commits)."""
    if connection.vendor != "postgresql":
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE federation_cointransaction IN SHARE MODE")


def period_lock(
    period: SettlementPeriod, *, actor: Actor, now: datetime | None = None
) -> SettlementPeriod:
    """Make a period in review final. Disputes still open stay open, carried as such; what
    their resolution changes goes into the next open period."""
    now = now or timezone.now()
    with transaction.atomic():
        period = _locked(period, State.REVIEW)
        period.state, period.locked_at = State.LOCKED, now
        period.save(update_fields=["state", "locked_at"])
        open_disputes = period_open_disputes(period)
        _audit(period, SettlementAuditAction.LOCKED, actor, open_disputes=open_disputes)
        _tell(period, "settlement.locked", open_disputes=open_disputes)
    return period


def period_open_disputes(period: SettlementPeriod) -> int:
    return SettlementDispute.objects.filter(
        line__period=period, state=SettlementDispute.State.OPEN
    ).count()


def period_issue(
    period: SettlementPeriod, *, actor: Actor, now: datetime | None = None
) -> SettlementPeriod:
    """Issue a locked period's statements, each signed with the newest signing key: from now
    on PostgreSQL refuses to change them."""
    now = now or timezone.now()
    with transaction.atomic():
        period = _locked(period, State.LOCKED)
        for statement in period.statements.filter(issued_at=None):
            signed = sign(statement.document)
            statement.issued_at = now
            statement.signature, statement.signing_key_id = signed.value, signed.key_id
            statement.save(update_fields=["issued_at", "signature", "signing_key_id"])
        period.state, period.issued_at = State.ISSUED, now
        period.save(update_fields=["state", "issued_at"])
        _audit(period, SettlementAuditAction.ISSUED, actor)
        for statement in period.statements.select_related("partner"):
            webhook_emit(
                partner=statement.partner,
                event_type="settlement.statement_issued",
                data={
                    "period_id": str(period.pk),
                    "statement_id": statement.pk,
                    "net_yen": str(statement.net_yen),
                    "sha256": statement.content_hash,
                    "signature": statement.signature,
                    "key_id": statement.signing_key_id,
                },
            )
    return period


def payment_record(
    statement: SettlementStatement,
    *,
    reference: str,
    actor: Actor,
    now: datetime | None = None,
) -> SettlementPayment:
    """Record that ``statement``'s net amount was paid (to or by the host) with the bank's
    ``reference``. Once every statement with a net amount is paid, the period is paid."""
    now = now or timezone.now()
    if not reference.strip():
        raise validation_failed("reference", _("A payment reference is required."))
    with transaction.atomic():
        period = _locked(statement.period, State.ISSUED)
        statement = SettlementStatement.objects.get(pk=statement.pk)
        if statement.net_yen == 0 or SettlementPayment.objects.filter(statement=statement).exists():
            raise ApplicationError(SettlementErrorCode.PERIOD_STATE, extra={"paid": True})
        payment = SettlementPayment.objects.create(
            statement=statement,
            amount_yen=abs(statement.net_yen),
            reference=reference.strip()[:100],
            recorded_at=now,
        )
        _audit(
            period,
            SettlementAuditAction.PAYMENT_RECORDED,
            actor,
            company=statement.partner.slug,
            amount_yen=str(payment.amount_yen),
            reference=payment.reference,
        )
        unpaid = period.statements.exclude(net_yen=0).filter(payment__isnull=True)
        if not unpaid.exists():
            period.state, period.paid_at = State.PAID, now
            period.save(update_fields=["state", "paid_at"])
            _audit(period, SettlementAuditAction.PAID, actor)
            _tell(period, "settlement.paid")
    return payment


def period_rerun(period: SettlementPeriod) -> list[str]:
    """Compute ``period`` again from the ledger without writing anything, and say what
    differs from what is stored: computed lines that are not the same, and statements whose
    bytes are not the same. Empty for a locked period whose ledger is unchanged."""
    stored = sorted(_amount_of(line) for line in period.lines.filter(source="computed"))
    again = sorted(_key(a) for a in period_amounts(period))
    differences = [] if stored == again else ["lines"]
    lines = ordered_lines(period)
    for statement in period.statements.select_related("partner"):
        if canonical(render(period, statement.partner, lines)) != statement.document:
            differences.append(statement.partner.slug)
    return differences


def _key(a: Amount) -> tuple[str, str, str, int, Decimal, Decimal, int]:
    return (
        a.kind,
        str(a.debtor_id or ""),
        str(a.creditor_id or ""),
        a.coins,
        a.exact_yen,
        a.amount_yen,
        a.adjusts_id or 0,
    )


def _amount_of(line: SettlementLine) -> tuple[str, str, str, int, Decimal, Decimal, int]:
    return _key(
        Amount(
            line.kind,
            line.debtor_id,
            line.creditor_id,
            line.coins,
            line.exact_yen,
            line.amount_yen,
            line.adjusts_id,
        )
    )


def statement_acknowledge(
    statement: SettlementStatement,
    *,
    content_hash: str,
    actor: Actor,
    now: datetime | None = None,
) -> SettlementAcknowledgement:
    """The statement's company confirms the issued statement whose SHA-256 it read
    (``validation_failed`` for another hash, ``period_state`` before it is issued,
    ``already_acknowledged`` the second time). The host hears of it."""
    now = now or timezone.now()
    with transaction.atomic():
        period = _locked(statement.period, State.ISSUED, State.PAID)
        if content_hash != statement.content_hash:
            raise validation_failed("sha256", _("This is not the statement's SHA-256."))
        if SettlementAcknowledgement.objects.filter(statement=statement).exists():
            raise ApplicationError(SettlementErrorCode.ALREADY_ACKNOWLEDGED)
        acknowledgement = SettlementAcknowledgement.objects.create(
            statement=statement, content_hash=content_hash, acknowledged_at=now
        )
        audit_record(
            action=SettlementAuditAction.ACKNOWLEDGED,
            actor=actor,
            partner=statement.partner,
            target=acknowledgement,
            detail={"period": str(period.pk), "sha256": content_hash},
        )
        webhook_emit(
            partner=period.host,
            event_type="settlement.statement_acknowledged",
            data={
                "period_id": str(period.pk),
                "company": statement.partner.slug,
                "sha256": content_hash,
            },
        )
    return acknowledgement
