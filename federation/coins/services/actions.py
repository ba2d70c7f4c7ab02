"""Coins for actions between purchases (a video watched, an event attended, a survey
answered, a review written), as the company's action catalogue in the agreement terms in
force grants them, and the reactivation bonus for a member who comes back after being dormant.

The caps (per member and day or month, in Japan's time) and "once per content" hold under
concurrency: the grant is posted first, which locks the member's wallet (``ledger.post``)
until the transaction ends, so every action of one member is counted after the ones before it
have committed; a unique constraint backs "once per content" as well. A refused action rolls
back whole: no coins, no grant, no bonus.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from federation.agreements.selectors import version_in_force
from federation.coins.audit import CoinAuditAction
from federation.coins.errors import CoinErrorCode
from federation.coins.models import (
    CoinActionGrant,
    CoinActivity,
    CoinReactivation,
    CoinTransaction,
)
from federation.coins.services.activity import activity_touch
from federation.coins.services.earning import Grant, coins_earn
from federation.coins.services.programs import Program, extend_on_activity, program_for
from federation.holdouts.models import Holdout
from federation.holdouts.services import held_out
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import MemberAccount, Partner, Person
from partners.services import audit_record, member_person, webhook_emit

Tx = CoinTransaction.Kind


@dataclass(frozen=True)
class ActionOutcome:
    grant: CoinActionGrant
    reactivation: CoinReactivation | None


def action_of(program: Program, action_type: str) -> dict[str, Any]:
    """The catalogue entry of ``action_type`` in ``program``'s agreement terms in force, or
    ``unknown_action``."""
    version = version_in_force(program.agreement, timezone.localdate())
    actions = version.terms["coin"].get("actions", []) if version is not None else []
    for action in actions:
        if action["party"] == program.company.slug and action["type"] == action_type:
            return dict(action)
    raise ApplicationError(
        CoinErrorCode.UNKNOWN_ACTION,
        _("%(company)s's program grants nothing for the action %(action)s.")
        % {"company": program.company.slug, "action": action_type},
        extra={"action_type": action_type},
    )


def coins_earn_for_action(
    *,
    company: Partner,
    member: MemberAccount,
    action_type: str,
    content_id: str,
    actor: Actor,
    occurred_at: datetime | None = None,
) -> ActionOutcome:
    """Coins for ``member``'s action at ``company``, past the agreement and consent gates, the
    catalogue and its caps; with the reactivation bonus when the member had been dormant."""
    program = program_for(company, member)
    action = action_of(program, action_type)
    now = timezone.now()
    occurred_at = occurred_at or now
    person = member_person(member)
    _refuse_held_out(company, action, person)
    reason = {"action_type": action_type, "content_id": content_id}
    expires_at = _expiry(program, now)
    try:
        with transaction.atomic():
            posted = coins_earn(
                Grant(
                    person,
                    company,
                    action["coins"],
                    program.yen_per_coin,
                    kind=Tx.EARN_ACTION,
                    reason={**reason, "occurred_at": occurred_at.isoformat()},
                    expires_at=expires_at,
                ),
                actor=actor,
                now=now,
            )
            _check_caps(person, company, action, content_id, occurred_at)
            grant = CoinActionGrant.objects.create(
                person=person,
                company=company,
                member=member,
                action_type=action_type,
                content_id=content_id,
                once_per_content=action["once_per_content"],
                coins=action["coins"],
                occurred_at=occurred_at,
                transaction=posted,
                granted_at=now,
            )
            reactivation = _reactivate(program, grant, actor, now=now, expires_at=expires_at)
            activity_touch(person, company, occurred_at)
            extend_on_activity(program, person, now)
            _tell_member_company(member, company, posted, grant, reactivation)
    except IntegrityError:  # the same content, granted by a report that raced this one
        raise _already_rewarded(action_type, content_id) from None
    return ActionOutcome(grant, reactivation)


def action_key(company: Partner, action_type: str) -> str:
    """The holdout key of one action rule of ``company``'s."""
    return f"action:{company.slug}:{action_type}"


def _refuse_held_out(company: Partner, action: dict[str, Any], person: Person) -> None:
    """``action_held_out`` for a member in the rule's holdout, when the rule keeps one."""
    share = action.get("holdout_percent")
    if share and held_out(
        kind=Holdout.Kind.ACTION_RULE,
        key=action_key(company, action["type"]),
        company=company,
        subject_id=person.pk,
        percent=Decimal(share),
    ):
        raise ApplicationError(CoinErrorCode.ACTION_HELD_OUT, extra={"action_type": action["type"]})


def _check_caps(
    person: Person, company: Partner, action: dict[str, Any], content_id: str, at: datetime
) -> None:
    grants = CoinActionGrant.objects.filter(
        person=person, company=company, action_type=action["type"]
    )
    if action["once_per_content"] and grants.filter(content_id=content_id).exists():
        raise _already_rewarded(action["type"], content_id)
    local = timezone.localtime(at)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    for cap, since, until in (
        ("per_day", day, day + timedelta(days=1)),
        ("per_month", month, next_month),
    ):
        limit = action.get(cap)
        if limit and grants.filter(occurred_at__gte=since, occurred_at__lt=until).count() >= limit:
            raise ApplicationError(
                CoinErrorCode.ACTION_CAP_REACHED,
                extra={"action_type": action["type"], "cap": cap, "limit": limit},
            )


def _already_rewarded(action_type: str, content_id: str) -> ApplicationError:
    return ApplicationError(
        CoinErrorCode.ACTION_ALREADY_REWARDED,
        extra={"action_type": action_type, "content_id": content_id},
    )


def _reactivate(
    program: Program,
    grant: CoinActionGrant,
    actor: Actor,
    *,
    now: datetime,
    expires_at: datetime | None,
) -> CoinReactivation | None:
    """The bonus for a member dormant at least the program's days, posted as its own lot, and
    the reactivation recorded; None when the program has no bonus, the member was active (or
    new: a first activity is no reactivation), or is in the bonus's holdout (recorded, with no
    bonus, for the metrics)."""
    days, bonus = (
        program.settings.get("reactivation_days"),
        program.settings.get("reactivation_bonus"),
    )
    last = (
        CoinActivity.objects.filter(person=grant.person, company=program.company)
        .values_list("last_active_at", flat=True)
        .first()
    )
    if not days or not bonus or last is None or grant.occurred_at - last < timedelta(days=days):
        return None
    dormant = (grant.occurred_at - last).days
    if held_out(
        kind=Holdout.Kind.REACTIVATION,
        key=reactivation_key(program.company),
        company=program.company,
        subject_id=grant.person.pk,
    ):
        _record_reactivation(grant, program, actor, None, last=last, dormant=dormant, now=now)
        return None
    posted = coins_earn(
        Grant(
            grant.person,
            program.company,
            bonus,
            program.yen_per_coin,
            kind=Tx.BONUS,
            reason={
                "reactivation": True,
                "action_type": grant.action_type,
                "dormant_days": dormant,
            },
            expires_at=expires_at,
        ),
        actor=actor,
        now=now,
    )
    return _record_reactivation(grant, program, actor, posted, last=last, dormant=dormant, now=now)


def reactivation_key(company: Partner) -> str:
    """The holdout key of ``company``'s reactivation bonus: one programme per company."""
    return f"reactivation:{company.slug}"


def _record_reactivation(
    grant: CoinActionGrant,
    program: Program,
    actor: Actor,
    posted: CoinTransaction | None,
    *,
    last: datetime,
    dormant: int,
    now: datetime,
) -> CoinReactivation:
    bonus = 0 if posted is None else program.settings["reactivation_bonus"]
    reactivation = CoinReactivation.objects.create(
        person=grant.person,
        company=program.company,
        member=grant.member,
        grant=grant,
        bonus=bonus,
        bonus_transaction=posted,
        held_out=posted is None,
        last_active_at=last,
        dormant_days=dormant,
        reactivated_at=now,
    )
    audit_record(
        action=CoinAuditAction.REACTIVATED,
        actor=actor,
        partner=program.company,
        target=reactivation,
        detail={
            "bonus": bonus,
            "dormant_days": dormant,
            "action_type": grant.action_type,
            "held_out": posted is None,
        },
    )
    return reactivation


def _expiry(program: Program, now: datetime) -> datetime | None:
    days = program.settings.get("expiry_days")
    return now + timedelta(days=days) if days else None


def _tell_member_company(
    member: MemberAccount,
    company: Partner,
    posted: CoinTransaction,
    grant: CoinActionGrant,
    reactivation: CoinReactivation | None,
) -> None:
    if member.partner_id == company.pk:
        return
    webhook_emit(
        partner=member.partner,
        event_type="coins.earned",
        data={
            "member_number": member.member_number,
            "company": company.slug,
            "coins": grant.coins + (reactivation.bonus if reactivation else 0),
            "transaction_id": str(posted.pk),
            "action_type": grant.action_type,
        },
    )
