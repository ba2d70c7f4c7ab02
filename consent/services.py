"""Writes and the one question of consent: record, withdraw, check, verify.

Every later feature asks ``consent_check`` at the moment it uses member data. Grants and
withdrawals are appended to the member's hash chain under a lock on the member's row, and the
materialised ``ConsentState`` changes in the same transaction, so a withdrawal is in force for
every check the moment it commits.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from consent import check_cache, rule
from consent.models import (
    ChainVerification,
    Channel,
    ConsentEvent,
    ConsentState,
    PrivacyNotice,
    ProvisionRecord,
    Purpose,
    WithdrawalNotice,
)
from consent.rule import Decision
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import MemberAccount, Partner
from partners.pii import pseudonym_for
from partners.services import webhook_emit

GENESIS_HASH = "0" * 64
# A member's device clock may run a little ahead of ours; more than this is a wrong timestamp.
_CLOCK_SKEW = timedelta(minutes=5)


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(ErrorCode.VALIDATION_FAILED, message, fields={field: [message]})


def _sha256(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- Notices ----------------------------------------------------------------------------------


def notice_publish(
    *,
    version: int,
    language: str,
    text: str,
    purposes: Iterable[str],
    recipients: Iterable[Partner],
    data_items: Iterable[str],
    effective_at: datetime,
) -> PrivacyNotice:
    """Publish one language of a notice version. Raises ApplicationError (validation_failed)."""
    conditions = {
        "purposes": sorted(set(purposes)),
        "recipients": sorted({partner.slug for partner in recipients}),
        "data_items": sorted(set(data_items)),
    }
    unknown = set(conditions["purposes"]) - set(Purpose.objects.values_list("code", flat=True))
    if unknown:
        raise _invalid("purposes", f"Unknown purposes: {', '.join(sorted(unknown))}.")
    if timezone.is_naive(effective_at):
        raise _invalid("effective_at", "Give a timezone-aware time.")
    notice = PrivacyNotice(
        version=version,
        language=language,
        effective_at=effective_at,
        text=text,
        content_sha256=hashlib.sha256(text.encode()).hexdigest(),
        conditions=conditions,
        conditions_sha256=_sha256(conditions),
    )
    notice.full_clean()
    notice.save()
    transaction.on_commit(check_cache.cache.clear)
    return notice


def notice_in_force(*, at: datetime | None = None) -> PrivacyNotice | None:
    """The newest notice version in effect at ``at`` (now), in any language: every language
    of a version carries the same conditions."""
    return (
        PrivacyNotice.objects.filter(effective_at__lte=at or timezone.now())
        .order_by("-version")
        .first()
    )


def current_conditions(*, at: datetime | None = None) -> str | None:
    """The conditions hash of the newest notice version in effect at ``at`` (now)."""
    notice = (
        PrivacyNotice.objects.filter(effective_at__lte=at or timezone.now())
        .order_by("-version")
        .values_list("conditions_sha256", flat=True)
        .first()
    )
    return notice


# --- Recording --------------------------------------------------------------------------------


def _event_fields(event: ConsentEvent) -> dict[str, Any]:
    """What the hash covers: everything the event says, in a canonical form."""
    return {
        "id": str(event.id),
        "member": str(event.member_id),
        "sequence": event.sequence,
        "purpose": event.purpose_id,
        "recipient": str(event.recipient_id),
        "action": event.action,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "recorded_at": event.recorded_at.astimezone(UTC).isoformat(),
        "channel": event.channel,
        "captured_by": event.captured_by,
        "captured_by_partner": str(event.captured_by_partner_id or ""),
        "notice": str(event.notice_id or ""),
        "expires_at": event.expires_at.astimezone(UTC).isoformat() if event.expires_at else "",
        "jurisdiction": event.jurisdiction,
        "previous_hash": event.previous_hash,
    }


def event_hash(event: ConsentEvent) -> str:
    return _sha256(_event_fields(event))


def _check_time(field: str, value: datetime, now: datetime) -> None:
    if timezone.is_naive(value):
        raise _invalid(field, "Give a timezone-aware time (with an offset, e.g. +09:00).")
    if value > now + _CLOCK_SKEW:
        raise _invalid(field, "This time is in the future.")


def _append(
    *,
    member: MemberAccount,
    purpose: Purpose,
    recipient: Partner,
    action: str,
    occurred_at: datetime,
    channel: str,
    actor: Actor,
    notice: PrivacyNotice | None = None,
    expires_at: datetime | None = None,
    jurisdiction: str = "JP",
) -> ConsentEvent:
    # The member's row is the chain's lock: one writer at a time extends it.
    MemberAccount.objects.select_for_update().filter(pk=member.pk).values_list("pk").get()
    last = (
        ConsentEvent.objects.filter(member=member)
        .order_by("-sequence")
        .values_list("sequence", "hash")
        .first()
    )
    sequence, previous_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    event = ConsentEvent(
        id=uuid.uuid4(),
        member=member,
        sequence=sequence,
        purpose=purpose,
        recipient=recipient,
        action=action,
        occurred_at=occurred_at,
        recorded_at=timezone.now(),
        channel=channel,
        captured_by=actor.label[:200],
        captured_by_partner=actor.partner,
        notice=notice,
        expires_at=expires_at,
        jurisdiction=jurisdiction,
        previous_hash=previous_hash,
    )
    event.hash = event_hash(event)
    event.save(force_insert=True)
    ConsentState.objects.update_or_create(
        member=member,
        purpose=purpose,
        recipient=recipient,
        defaults={
            "granted": action == ConsentEvent.Action.GRANTED,
            "expires_at": expires_at,
            "notice": notice,
            "event": event,
            "changed_at": event.recorded_at,
        },
    )
    # Other processes hear of it from PostgreSQL; this one forgets at once.
    transaction.on_commit(check_cache.forget_member_on_commit(member.pk))
    return event


def _purpose(code: str) -> Purpose:
    purpose = Purpose.objects.filter(code=code, active=True).first()
    if purpose is None:
        raise _invalid("purpose", f"There is no purpose {code!r}.")
    return purpose


def _channel(channel: str) -> str:
    if channel not in Channel.values:
        raise _invalid("channel", f"Give a channel: one of {', '.join(Channel.values)}.")
    return channel


def consent_grant(
    *,
    member: MemberAccount,
    purpose_code: str,
    recipient: Partner,
    notice: PrivacyNotice,
    channel: str,
    occurred_at: datetime,
    actor: Actor,
    expires_at: datetime | None = None,
    jurisdiction: str = "JP",
) -> ConsentEvent:
    """Record that ``member`` consented to ``purpose_code`` for ``recipient`` alone.

    Raises ApplicationError (validation_failed) for an unknown purpose, an inactive recipient,
    a notice that is not the one in effect or does not cover this purpose and recipient, a
    naive or future time, an expiry before the grant, or a missing channel.
    """
    now = timezone.now()
    purpose = _purpose(purpose_code)
    if _channel(channel) == Channel.DATA_SUBJECT_REQUEST:
        raise _invalid("channel", "Consent is never given through a data-subject request.")
    _check_time("occurred_at", occurred_at, now)
    if expires_at is not None:
        _check_time("expires_at", expires_at, now + timedelta(days=36_500))
        if expires_at <= occurred_at:
            raise _invalid("expires_at", "A consent must expire after it was given.")
    if not recipient.is_active:
        raise _invalid("recipient", "This recipient cannot receive member data now.")
    if member.status == MemberAccount.Status.ERASED:
        raise ApplicationError(ErrorCode.CONFLICT, "This member's data has been erased.")
    if notice.conditions_sha256 != current_conditions(at=now):
        raise _invalid(
            "notice", "This notice version has been superseded; show the member the current one."
        )
    if occurred_at < notice.effective_at:
        raise _invalid(
            "occurred_at", "The member cannot have agreed to a notice not yet in effect."
        )
    if not jurisdiction or len(jurisdiction) > 8:
        raise _invalid("jurisdiction", "Give a jurisdiction code of at most 8 characters.")
    covered = notice.conditions
    if purpose.code not in covered["purposes"] or recipient.slug not in covered["recipients"]:
        raise _invalid("notice", "The notice the member saw does not cover this use.")
    with transaction.atomic():
        return _append(
            member=member,
            purpose=purpose,
            recipient=recipient,
            action=ConsentEvent.Action.GRANTED,
            occurred_at=occurred_at,
            channel=channel,
            actor=actor,
            notice=notice,
            expires_at=expires_at,
            jurisdiction=jurisdiction,
        )


def consent_withdraw(
    *,
    member: MemberAccount,
    purpose_code: str,
    recipient: Partner,
    channel: str,
    occurred_at: datetime,
    actor: Actor,
) -> ConsentEvent:
    """Record a withdrawal; every check answers no from the moment this commits.

    Raises ApplicationError: validation_failed (unknown purpose, naive or future time, channel),
    conflict if there is no consent in force to withdraw.
    """
    purpose = _purpose(purpose_code)
    _channel(channel)
    _check_time("occurred_at", occurred_at, timezone.now())
    with transaction.atomic():
        state = (
            ConsentState.objects.select_for_update()
            .filter(member=member, purpose=purpose, recipient=recipient, granted=True)
            .first()
        )
        if state is None:
            raise ApplicationError(
                ErrorCode.CONFLICT, "There is no consent in force for this purpose and recipient."
            )
        if occurred_at < state.event.occurred_at:
            raise _invalid("occurred_at", "A consent cannot be withdrawn before it was given.")
        event = _append(
            member=member,
            purpose=purpose,
            recipient=recipient,
            action=ConsentEvent.Action.WITHDRAWN,
            occurred_at=occurred_at,
            channel=channel,
            actor=actor,
        )
        notice = WithdrawalNotice.objects.create(
            event=event,
            recipient=recipient,
            member_pseudonym=pseudonym_for(member.pk, recipient.pk),
            created_at=event.recorded_at,
            last_sent_at=event.recorded_at,
        )
        _send_withdrawal(notice)
        return event


def consents_withdraw_all(
    *, member: MemberAccount, channel: str, actor: Actor
) -> list[ConsentEvent]:
    """Withdraw every consent the member has given (an erasure): each recipient is sent its
    withdrawal as for any other. Expired grants are withdrawn too, so no recipient is left
    without word that the member is gone."""
    now = timezone.now()
    states = (
        ConsentState.objects.filter(member=member, granted=True)
        .select_related("recipient", "event")
        .order_by("recipient__slug", "purpose_id")
    )
    return [
        consent_withdraw(
            member=member,
            purpose_code=state.purpose_id,
            recipient=state.recipient,
            channel=channel,
            # A grant stamped a little ahead by the member's clock still comes first.
            occurred_at=max(now, state.event.occurred_at),
            actor=actor,
        )
        for state in states
    ]


def erasure_notify_recipients(*, member: MemberAccount) -> list[Partner]:
    """Tell every partner that was ever meant to receive the erased member's data to delete it
    (``consent.member_erased``), under the id it knows the member by. Returns them."""
    recipient_ids = set(
        ConsentState.objects.filter(member=member).values_list("recipient_id", flat=True)
    ) | set(ProvisionRecord.objects.filter(member=member).values_list("recipient_id", flat=True))
    recipient_ids.discard(member.partner_id)
    recipients = list(Partner.objects.filter(pk__in=recipient_ids).order_by("slug"))
    for recipient in recipients:
        webhook_emit(
            partner=recipient,
            event_type="consent.member_erased",
            data={
                "member": pseudonym_for(member.pk, recipient.pk),
                "erased_at": member.updated_at.isoformat(),
            },
        )
    return recipients


def _send_withdrawal(notice: WithdrawalNotice) -> None:
    # The recipient knows the member only by its own pseudonymous id, never by the owner's
    # member number.
    webhook_emit(
        partner=notice.recipient,
        event_type="consent.withdrawn",
        data={
            "withdrawal_id": str(notice.event_id),
            "member": notice.member_pseudonym,
            "purpose": notice.event.purpose_id,
            "withdrawn_at": notice.event.occurred_at.isoformat(),
            "acknowledge_by": withdrawal_due(notice).isoformat(),
        },
    )


def withdrawal_due(notice: WithdrawalNotice) -> datetime:
    return notice.created_at + timedelta(hours=settings.SANPO_WITHDRAWAL_ACK_HOURS)


def withdrawal_acknowledge(*, notice: WithdrawalNotice, actor: Actor) -> WithdrawalNotice:
    """The recipient confirms it stopped using the data. Repeating it changes nothing."""
    with transaction.atomic():
        notice = WithdrawalNotice.objects.select_for_update().get(pk=notice.pk)
        if notice.acknowledged_at is None:
            notice.acknowledged_at = timezone.now()
            notice.acknowledged_by = actor.label[:200]
            notice.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return notice


def withdrawals_resend_unacknowledged(*, now: datetime | None = None) -> int:
    """Send again every unacknowledged withdrawal last sent more than the resend interval ago
    (the periodic task). Returns how many were sent."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.SANPO_WITHDRAWAL_RESEND_HOURS)
    sent = 0
    stale = WithdrawalNotice.objects.filter(acknowledged_at__isnull=True, last_sent_at__lt=cutoff)
    for notice in stale.select_related("recipient", "event")[:1000]:
        with transaction.atomic():
            claimed = WithdrawalNotice.objects.filter(
                pk=notice.pk, last_sent_at=notice.last_sent_at, acknowledged_at__isnull=True
            ).update(last_sent_at=now, times_sent=F("times_sent") + 1)
            if claimed:
                _send_withdrawal(notice)
                sent += 1
    return sent


# --- The one question -------------------------------------------------------------------------


def _moment(at: datetime | None) -> rule.Moment:
    at = at or timezone.now()
    return rule.Moment(at=at, conditions=current_conditions(at=at))


def consent_check(
    *,
    member_id: uuid.UUID,
    purpose_code: str,
    recipient: Partner,
    at: datetime | None = None,
) -> Decision:
    """May member ``member_id``'s data be used for ``purpose_code`` by ``recipient`` now?

    Every feature asks this at the moment of use. Outside a transaction the answer comes from
    this process's cache, which PostgreSQL keeps current (``consent.check_cache``); inside one,
    or without a listening cache, it is one prepared round trip reading the member's state, the
    member's and the recipient's status and the notice in force together. Use
    ``consent_check_many`` for many members at once.
    """
    at = at or timezone.now()
    if not connection.in_atomic_block and check_cache.cache.usable():
        return _check_cached(member_id, purpose_code, recipient.pk, at)
    row = _fetch_one(_CHECK_SQL, [at, member_id, purpose_code, recipient.pk])
    if row is None:
        # No state; the notice in force does not matter then.
        return rule.decide(None, rule.Moment(at=at, conditions=None))
    granted, expires_at, notice_conditions, member_status, recipient_status, current = row
    facts = rule.Facts(
        granted=bool(granted),
        expires_at=_aware(expires_at) if expires_at is not None else None,
        notice_conditions=notice_conditions,
        member_status=member_status,
        recipient_status=recipient_status,
    )
    return rule.decide(facts, rule.Moment(at=at, conditions=current))


def _fetch_one(sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        # A server-binding cursor, so PostgreSQL keeps the plan (Django's cursors bind on the
        # client and re-plan every time): this is what makes single checks cheap.
        with psycopg.Cursor(connection.connection) as raw:
            raw.execute(sql, params, prepare=True)
            row: tuple[Any, ...] | None = raw.fetchone()
            return row
    with connection.cursor() as cursor:
        cursor.execute(sql, [_sqlite(value) for value in params])
        row = cursor.fetchone()
        return row


def _check_cached(
    member_id: uuid.UUID, purpose_code: str, recipient_id: uuid.UUID, at: datetime
) -> Decision:
    cache = check_cache.cache
    generation = cache.generation  # before any read, so a read that raced a change is dropped
    recipients, notices = cache.recipients(), cache.notices()
    if recipients is None or notices is None:
        recipients = dict(Partner.objects.values_list("pk", "status"))
        notices = sorted(
            PrivacyNotice.objects.values_list("effective_at", "version", "conditions_sha256"),
            key=lambda notice: notice[1],
            reverse=True,
        )
        cache.store_tables(recipients, notices, generation=generation)
    row = cache.state(member_id, purpose_code, recipient_id)
    if row is check_cache.MISSING:
        found = _fetch_one(_STATE_SQL, [member_id, purpose_code, recipient_id])
        row = (
            (bool(found[0]), _aware(found[1]) if found[1] else None, found[2], found[3])
            if found is not None
            else None
        )
        cache.store_state(member_id, purpose_code, recipient_id, row, generation=generation)
    # The notice in force is the newest version already effective (as in _CHECK_SQL).
    current = next((sha for effective_at, _, sha in notices if effective_at <= at), None)
    moment = rule.Moment(at=at, conditions=current)
    if row is None:
        return rule.decide(None, moment)
    granted, expires_at, notice_conditions, member_status = row
    facts = rule.Facts(
        granted=granted,
        expires_at=expires_at,
        notice_conditions=notice_conditions,
        member_status=member_status,
        recipient_status=recipients.get(recipient_id, ""),
    )
    return rule.decide(facts, moment)


_STATE_SQL = f"""
    SELECT state.granted, state.expires_at, notice.conditions_sha256, member.status
    FROM {ConsentState._meta.db_table} state
    JOIN {MemberAccount._meta.db_table} member ON member.id = state.member_id
    LEFT JOIN {PrivacyNotice._meta.db_table} notice ON notice.id = state.notice_id
    WHERE state.member_id = %s AND state.purpose_id = %s AND state.recipient_id = %s
"""  # noqa: S608 - table names are constants; values are parameters

_CHECK_SQL = f"""
    SELECT state.granted, state.expires_at, notice.conditions_sha256, member.status,
           recipient.status,
           (SELECT conditions_sha256 FROM {PrivacyNotice._meta.db_table}
            WHERE effective_at <= %s ORDER BY version DESC LIMIT 1)
    FROM {ConsentState._meta.db_table} state
    JOIN {MemberAccount._meta.db_table} member ON member.id = state.member_id
    JOIN {Partner._meta.db_table} recipient ON recipient.id = state.recipient_id
    LEFT JOIN {PrivacyNotice._meta.db_table} notice ON notice.id = state.notice_id
    WHERE state.member_id = %s AND state.purpose_id = %s AND state.recipient_id = %s
"""  # noqa: S608 - table names are constants; values are parameters


def _sqlite(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _aware(value: datetime | str) -> datetime:
    # SQLite hands back UTC as naive datetimes (or text); PostgreSQL gives aware ones.
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def consent_check_many(
    *,
    member_ids: Iterable[uuid.UUID],
    purpose_code: str,
    recipient: Partner,
    at: datetime | None = None,
) -> dict[uuid.UUID, Decision]:
    """The same question for many members at once: the notice in force, then one query."""
    moment = _moment(at)
    ids = list(member_ids)
    query = ConsentState.objects.filter(
        member_id__in=ids, purpose_id=purpose_code, recipient=recipient
    ).values_list(
        "member_id",
        "granted",
        "expires_at",
        "notice__conditions_sha256",
        "member__status",
        "recipient__status",  # read now, not from the caller's possibly stale object
    )
    facts = {
        member_id: rule.Facts(granted, expires_at, conditions, member_status, recipient_status)
        for member_id, granted, expires_at, conditions, member_status, recipient_status in query
    }
    return {member_id: rule.decide(facts.get(member_id), moment) for member_id in ids}


def consenting_states(
    *, purpose_code: str, recipient: Partner, at: datetime | None = None
) -> QuerySet[ConsentState]:
    """The consent states in force for ``purpose_code`` and ``recipient`` at ``at`` (the rule
    of ``consent.rule``, as a filter), for set-based features (bulk enrollment, campaign
    targeting) to filter on or to join members through."""
    return ConsentState.objects.filter(
        rule.in_force_q(_moment(at)), purpose_id=purpose_code, recipient_id=recipient.pk
    ).order_by()


def consent_in_force_sql(
    *, member_column: str, purpose_code: str, recipient: Partner, at: datetime | None = None
) -> tuple[str, list[Any]]:
    """``consent.rule.in_force_sql``: the rule as an SQL condition on ``member_column``, for
    raw set-based queries. The member's own status is the caller's to check."""
    return rule.in_force_sql(
        member_column=member_column,
        purpose_code=purpose_code,
        recipient=recipient,
        moment=_moment(at),
    )


def consented_member_ids(
    *, purpose_code: str, recipient: Partner, at: datetime | None = None
) -> QuerySet[ConsentState, uuid.UUID]:
    """The ids of the members whose consent is in force (``consenting_states``), as a
    subquery."""
    states = consenting_states(purpose_code=purpose_code, recipient=recipient, at=at)
    return states.values_list("member_id", flat=True)


# --- Verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    member_id: uuid.UUID
    sequence: int
    event_id: uuid.UUID | None
    problem: str


def chain_verify(*, member: MemberAccount) -> ChainBreak | None:
    """The first broken link of a member's consent chain, or None if it is intact.

    Detects an event whose content no longer matches its hash (edited), a hash that does not
    follow from the previous event (reordered, or one deleted in between), and a gap in the
    sequence numbers (deleted).
    """
    previous_hash = GENESIS_HASH
    expected = 1
    for event in ConsentEvent.objects.filter(member=member).order_by("sequence").iterator():
        if event.sequence != expected:
            return ChainBreak(member.pk, expected, None, f"event #{expected} is missing")
        if event.previous_hash != previous_hash:
            return ChainBreak(
                member.pk, event.sequence, event.id, "does not follow the event before it"
            )
        if event_hash(event) != event.hash:
            return ChainBreak(
                member.pk, event.sequence, event.id, "was changed after it was written"
            )
        previous_hash = event.hash
        expected += 1
    return None


MAX_RECORDED_BREAKS = 1000


def chains_verify_all() -> ChainVerification:
    """Verify every member's consent chain and record the run (the nightly task and the
    ``verify_consent_chains`` command); the compliance pages show the latest."""
    run = ChainVerification.objects.create()
    member_ids = ConsentEvent.objects.values_list("member_id", flat=True).distinct()
    members = MemberAccount.objects.filter(pk__in=member_ids).select_related("partner")
    for member in members.order_by("partner__slug", "member_number").iterator(chunk_size=500):
        run.chains_checked += 1
        problem = chain_verify(member=member)
        if problem is not None and len(run.breaks) < MAX_RECORDED_BREAKS:
            run.breaks.append(
                {
                    "member_id": str(member.pk),
                    "partner": member.partner.slug,
                    "member_number": member.member_number,
                    "sequence": problem.sequence,
                    "event_id": str(problem.event_id) if problem.event_id else None,
                    "problem": problem.problem,
                }
            )
    run.events_checked = ConsentEvent.objects.filter(recorded_at__lte=run.started_at).count()
    run.finished_at = timezone.now()
    run.save()
    return run


# --- Provision records ------------------------------------------------------------------------


@transaction.atomic
def provision_record(
    *,
    member: MemberAccount,
    recipient: Partner,
    purpose_code: str,
    data_items: Iterable[str],
    actor: Actor,
    at: datetime | None = None,
) -> ProvisionRecord:
    """Check consent and record that ``member``'s ``data_items`` go to ``recipient``.

    Call it inside the transaction that provides the data, so the record exists exactly when
    the provision does. Raises ApplicationError: permission_denied (with the reason) when there
    is no consent in force at this moment, validation_failed when the items go beyond what the
    notice the member consented under names.
    """
    at = at or timezone.now()
    items = sorted(set(data_items))
    # Hold the consent state row until the transaction ends: a withdrawal, which locks it
    # too, then waits for this provision or is seen by it, never slips in between.
    state = (
        ConsentState.objects.select_for_update(no_key=True, of=("self",))
        .select_related("event", "notice")
        .filter(member=member, purpose_id=purpose_code, recipient=recipient)
        .first()
    )
    decision = consent_check(
        member_id=member.pk, purpose_code=purpose_code, recipient=recipient, at=at
    )
    if state is None or not decision.allowed:
        raise ApplicationError(
            ErrorCode.PERMISSION_DENIED,
            f"The member's consent does not allow this provision ({decision.reason}).",
        )
    allowed_items = set(state.notice.conditions["data_items"]) if state.notice else set()
    if not items or not set(items) <= allowed_items:
        raise _invalid("data_items", "Only items named in the notice the member agreed to.")
    provider = member.partner
    return ProvisionRecord.objects.create(
        provided_at=at,
        provider=provider,
        recipient=recipient,
        member=member,
        member_pseudonym=pseudonym_for(member.pk, recipient.pk),
        purpose_id=purpose_code,
        data_items=items,
        consent_event=state.event,
        recipient_obtained_from=(
            f"{provider.name_latin} ({provider.name_ja}), through Sanpo, under the member's "
            f"consent {state.event_id}"
        )[:300],
        recorded_by=actor.label[:200],
        retain_until=(at + timedelta(days=settings.SANPO_PROVISION_RETENTION_DAYS)).date(),
    )


def provision_records_purge(*, today: datetime | None = None) -> int:
    """Delete provision records past their retention (the daily task). Returns how many."""
    day = (today or timezone.now()).date()
    deleted, _ = ProvisionRecord.objects.filter(retain_until__lt=day).delete()
    return deleted
