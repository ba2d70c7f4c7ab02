"""Coins for the referred member: an offer may promise them ``member_coins`` on their counted
conversion of the kind ``member_coins_on`` (a sale by default: the first purchase).

A member in the offer's holdout (``federation.holdouts``, key ``referral:<offer>``) is paid
nothing, so that the reward's effect can be measured; the conversion counts all the same.
The source funds them, under its coin program in the agreement terms in force, at its yen per
coin (``coins.program_for``: the terms must let the source post coins for the member's company
and the member must consent to coin exchange with the source, both checked now). Without that,
the conversion still counts and earns its fee; the coins are not paid and the audit row says
why. Paid once: the earning is kept on the conversion, which the database lets exist once per
order and count once per member, offer and kind, and everything happens in the conversion's
(or its approval's) transaction, so a retried report never pays twice. A refund takes back
what is left of the lot (``coins.coins_refund``: coins already spent are recorded as the
shortfall for settlement, the wallet never goes below zero).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from federation.coins.errors import CoinErrorCode
from federation.coins.models import CoinTransaction
from federation.coins.services import Grant, coins_earn, coins_refund, program_for
from federation.holdouts.models import Holdout
from federation.holdouts.services import held_out
from federation.referrals.audit import ReferralAuditAction
from federation.referrals.models import ReferralConversion
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.services import audit_record, member_person, webhook_emit


def member_coins_pay(*, conversion: ReferralConversion, actor: Actor) -> CoinTransaction | None:
    """Pay the offer's coins to the member of ``conversion`` (counted: recorded or approved),
    in one transaction with the earning's audit row (and the caller's, when there is one);
    None when the offer promises none for this kind, they were paid already, or the terms or
    the member's consent refuse them now (audited)."""
    offer = conversion.offer
    if not offer.member_coins or conversion.kind != offer.member_coins_on:
        return None
    if conversion.member_coins_earned_id is not None:
        return None
    try:
        program = program_for(offer.source, conversion.member)
    except ApplicationError as refused:
        _audit(conversion, actor, ReferralAuditAction.MEMBER_COINS_REFUSED, refused=refused.code)
        return None
    if held_out(
        kind=Holdout.Kind.REFERRAL_REWARD,
        key=reward_key(offer.pk),
        company=offer.source,
        subject_id=member_person(conversion.member).pk,
    ):
        _audit(conversion, actor, ReferralAuditAction.MEMBER_COINS_REFUSED, refused="held_out")
        return None
    with transaction.atomic():
        return _pay(conversion, program.yen_per_coin, actor)


def reward_key(offer_id: object) -> str:
    """The holdout key of an offer's coins for the referred member."""
    return f"referral:{offer_id}"


def _pay(conversion: ReferralConversion, yen_per_coin: Decimal, actor: Actor) -> CoinTransaction:
    # The conversion's row locked: a second payer (an approval racing a retry) waits, then
    # finds the coins paid.
    locked = ReferralConversion.objects.select_for_update().get(pk=conversion.pk)
    paid = locked.member_coins_earned
    if paid is not None:
        return paid
    offer = conversion.offer
    earned = coins_earn(
        Grant(
            member_person(conversion.member),
            offer.source,
            offer.member_coins,
            yen_per_coin,
            kind=CoinTransaction.Kind.EARN_ACTION,
            reason={"referral_conversion": conversion.pk, "offer": str(offer.pk)},
        ),
        actor=actor,
        reference=f"referral:{conversion.pk}",
    )
    conversion.member_coins_earned = earned
    conversion.save(update_fields=["member_coins_earned"])
    _audit(conversion, actor, ReferralAuditAction.MEMBER_COINS_PAID, transaction=str(earned.pk))
    _tell(conversion, earned)
    return earned


def _tell(conversion: ReferralConversion, earned: CoinTransaction) -> None:
    """Both companies hear of the coins; only the destination, whose member it is, hears the
    member's number."""
    data = {
        "conversion_id": conversion.pk,
        "offer_id": str(conversion.offer_id),
        "coins": conversion.offer.member_coins,
        "transaction_id": str(earned.pk),
    }
    event = "referrals.member_coins_paid"
    webhook_emit(partner=conversion.offer.source, event_type=event, data=data)
    webhook_emit(
        partner=conversion.destination,
        event_type=event,
        data={**data, "member_number": conversion.member.member_number},
    )


def member_coins_take_back(*, conversion: ReferralConversion, actor: Actor) -> int:
    """On the refund of ``conversion``: take back what is left of the coins it paid, inside
    the caller's transaction; the coins recovered (0 when none were paid or are left)."""
    if conversion.member_coins_earned_id is None:
        return 0
    earned = CoinTransaction.objects.get(pk=conversion.member_coins_earned_id)
    try:
        clawback = coins_refund(
            earned,
            conversion.offer.member_coins,
            actor=actor,
            reason={"referral_conversion": conversion.pk},
        )
    except ApplicationError as refused:
        if refused.code != CoinErrorCode.NOTHING_TO_REFUND:
            raise
        return 0
    return clawback.recovered


def _audit(conversion: ReferralConversion, actor: Actor, action: str, **detail: Any) -> None:
    audit_record(
        action=action,
        actor=actor,
        partner=conversion.offer.source,
        target=conversion,
        detail={"coins": conversion.offer.member_coins, **detail},
    )
