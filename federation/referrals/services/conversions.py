"""Conversions as the destination reports them, their review, and their refund.

A conversion is recorded only when everything about it may be: an agreement in force still
lets the source refer customers to the destination, the converting member consents to
referral tracking with the source and the referring member (if the link has one) with the
destination. Otherwise it is refused and nothing is written about anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from federation.referrals.audit import ReferralAuditAction
from federation.referrals.codes import normalize_code
from federation.referrals.errors import ReferralErrorCode
from federation.referrals.models import ReferralConversion, ReferralLink
from federation.referrals.services.attribution import (
    Attribution,
    apply_fraud_rules,
    attribute_clicks,
    attribute_code,
)
from federation.referrals.services.consent import require_tracking_consent
from federation.referrals.services.enrolled import attribute_enrolled
from federation.referrals.services.fees import fee_open, fee_refund
from federation.referrals.services.member_coins import member_coins_pay, member_coins_take_back
from federation.referrals.services.offers import referral_terms
from federation.referrals.terms import review_days_of
from partners.actors import Actor
from partners.errors import ApplicationError, not_found, validation_failed
from partners.models import MemberAccount, Partner
from partners.services import audit_record, webhook_emit

State = ReferralConversion.State


@dataclass(frozen=True)
class Referral:
    """How the destination names the referral: the tokens its landing page received, the
    code the member typed, or (``enrolled``) the member's enrollment from the source."""

    tokens: tuple[str, ...] = ()
    code: str | None = None
    enrolled: bool = False


def _links(destination: Partner, referral: Referral) -> list[ReferralLink]:
    links = ReferralLink.objects.select_related("offer__source", "offer__destination", "member")
    if referral.code is not None:
        code = normalize_code(referral.code)
        if code is None:
            raise validation_failed("code", _("Not a referral code: check it for typing mistakes."))
        found = list(links.filter(code=code, offer__destination=destination))
    else:
        found = list(links.filter(token__in=referral.tokens, offer__destination=destination))
    if not found:
        raise not_found(_("referral"))
    return found


def referral_conversion_report(
    *,
    destination: Partner,
    member: MemberAccount,
    kind: str,
    order_id: str,
    amount_yen: Decimal,
    occurred_at: datetime,
    referral: Referral,
    actor: Actor,
) -> ReferralConversion:
    """Record a lead or sale of ``member`` (the destination's own) for ``order_id``, attributed
    as ``referral`` says (``attribution``, ``enrolled``), flagged by its fraud rules. Raises
    not_found (no such referral at this destination), conversion_exists (the order id was
    reported), not_enrolled, outside_window, no_referral_click, offer_not_valid, no_agreement,
    consent_required; nothing is written then."""
    if ReferralConversion.objects.filter(destination=destination, order_id=order_id).exists():
        raise ApplicationError(ReferralErrorCode.CONVERSION_EXISTS)
    if referral.enrolled:
        attribution = attribute_enrolled(destination, member, occurred_at)
    elif referral.code is not None:
        attribution = attribute_code(_links(destination, referral)[0], occurred_at)
    else:
        attribution = attribute_clicks(_links(destination, referral), occurred_at)
    offer = attribution.link.offer
    terms = referral_terms(source=offer.source, destination=destination)
    assert terms.referral is not None
    require_tracking_consent(member, offer.source)
    if attribution.link.member is not None:
        require_tracking_consent(attribution.link.member, destination)
    attribution = apply_fraud_rules(attribution, member=member, kind=kind, occurred_at=occurred_at)
    # The conversion commits on its own, at once: a racing report of the same member's first
    # conversion waits on its unique index only that long, then sees it (a flagged duplicate).
    conversion = _create(attribution, destination, member, kind, order_id, amount_yen, occurred_at)
    if conversion.state == State.RECORDED:
        fee_open(conversion=conversion, review_days=review_days_of(terms.referral))
        member_coins_pay(conversion=conversion, actor=actor)
    _audit_and_tell(conversion, actor)
    return conversion


def _create(
    attribution: Attribution,
    destination: Partner,
    member: MemberAccount,
    kind: str,
    order_id: str,
    amount_yen: Decimal,
    occurred_at: datetime,
) -> ReferralConversion:
    conversion = ReferralConversion(
        offer=attribution.link.offer,
        link=attribution.link,
        click=attribution.click,
        click_at=attribution.click.at if attribution.click is not None else None,
        destination=destination,
        member=member,
        kind=kind,
        order_id=order_id,
        amount_yen=amount_yen,
        occurred_at=occurred_at,
        state=State.FLAGGED if attribution.flags else State.RECORDED,
        flags=sorted(set(attribution.flags)),
        duplicate_of=attribution.duplicate_of,
    )
    conversion.full_clean(validate_constraints=False)
    if _saved(conversion):
        return conversion
    # A report racing this one for the member's first conversion of this offer and kind got
    # there first (its insert committed before ours could): this one is its duplicate, as
    # the fraud rule would have said had it run a moment later.
    first = ReferralConversion.objects.filter(
        offer=conversion.offer, member=member, kind=kind, duplicate_of__isnull=True
    ).first()
    if first is None or conversion.duplicate_of_id is not None:
        raise ApplicationError(ReferralErrorCode.CONVERSION_EXISTS)
    conversion.state, conversion.duplicate_of = State.FLAGGED, first
    conversion.flags = sorted({*conversion.flags, ReferralConversion.Flag.DUPLICATE})
    if not _saved(conversion):
        raise ApplicationError(ReferralErrorCode.CONVERSION_EXISTS)
    return conversion


def _saved(conversion: ReferralConversion) -> bool:
    """Whether ``conversion`` was inserted; not when a racing report took its order id (then
    it is refused) or the member's counted conversion of its offer and kind (then it is
    recorded as that one's duplicate)."""
    try:
        with transaction.atomic():
            conversion.save(force_insert=True)
    except IntegrityError:
        if ReferralConversion.objects.filter(
            destination=conversion.destination, order_id=conversion.order_id
        ).exists():
            raise ApplicationError(ReferralErrorCode.CONVERSION_EXISTS) from None
        conversion.pk = None
        return False
    return True


def conversion_view(conversion: ReferralConversion) -> dict[str, Any]:
    """What both companies are told of a conversion: never the member, nor the flags' reasons
    (a self-referral flag would tell the destination about the source's member)."""
    return {
        "conversion_id": conversion.pk,
        "offer_id": str(conversion.offer_id),
        "kind": conversion.kind,
        "state": conversion.state,
        "occurred_at": conversion.occurred_at,
    }


def _audit_and_tell(conversion: ReferralConversion, actor: Actor) -> None:
    flagged = conversion.state == State.FLAGGED
    audit_record(
        action=ReferralAuditAction.CONVERSION_FLAGGED
        if flagged
        else ReferralAuditAction.CONVERSION_RECORDED,
        actor=actor,
        partner=conversion.destination,
        target=conversion,
        detail={"flags": conversion.flags, "offer": str(conversion.offer_id)},
    )
    event = "referrals.conversion_flagged" if flagged else "referrals.conversion_recorded"
    _tell_both(conversion, event)


def _tell_both(conversion: ReferralConversion, event: str) -> None:
    offer = conversion.offer
    data = conversion_view(conversion)
    webhook_emit(partner=offer.source, event_type=event, data=data)
    webhook_emit(partner=offer.destination, event_type=event, data=data)


def _flagged(conversion_id: int) -> ReferralConversion:
    conversion = (
        ReferralConversion.objects.select_for_update()
        .select_related("offer__source", "offer__destination")
        .get(pk=conversion_id)
    )
    if conversion.state != State.FLAGGED:
        raise ApplicationError(ReferralErrorCode.NOT_REVIEWABLE)
    return conversion


def _reviewed(conversion: ReferralConversion, state: str, reason: str, actor: Actor) -> None:
    reason = reason.strip()
    if not reason:
        raise validation_failed("reason", _("Say why."))
    conversion.state, conversion.review_reason = state, reason[:300]
    conversion.reviewed_at, conversion.reviewed_by = timezone.now(), actor.label[:200]
    conversion.save(update_fields=["state", "review_reason", "reviewed_at", "reviewed_by"])


def referral_conversion_approve(
    *, conversion: ReferralConversion, reason: str, actor: Actor
) -> ReferralConversion:
    """A manager's approval of a flagged conversion, with ``reason``: it earns its fee from
    now, under the review period of the terms in force. Raises not_reviewable (not flagged),
    validation_failed (no reason), no_agreement (the terms no longer allow the referral)."""
    with transaction.atomic():
        conversion = _flagged(conversion.pk)
        offer = conversion.offer
        terms = referral_terms(source=offer.source, destination=offer.destination)
        assert terms.referral is not None
        _reviewed(conversion, State.APPROVED, reason, actor)
        fee_open(conversion=conversion, review_days=review_days_of(terms.referral))
        member_coins_pay(conversion=conversion, actor=actor)
        audit_record(
            action=ReferralAuditAction.CONVERSION_APPROVED,
            actor=actor,
            partner=offer.destination,
            target=conversion,
            detail={"reason": conversion.review_reason, "flags": conversion.flags},
        )
        _tell_both(conversion, "referrals.conversion_recorded")
    return conversion


def referral_conversion_reject(
    *, conversion: ReferralConversion, reason: str, actor: Actor
) -> ReferralConversion:
    """A manager's rejection of a flagged conversion, with ``reason``: it never earns a fee.
    Raises not_reviewable (not flagged), validation_failed (no reason)."""
    with transaction.atomic():
        conversion = _flagged(conversion.pk)
        _reviewed(conversion, State.REJECTED, reason, actor)
        audit_record(
            action=ReferralAuditAction.CONVERSION_REJECTED,
            actor=actor,
            partner=conversion.offer.destination,
            target=conversion,
            detail={"reason": conversion.review_reason, "flags": conversion.flags},
        )
    return conversion


def referral_conversion_refund(
    *, conversion: ReferralConversion, actor: Actor, reason: str = "refund"
) -> ReferralConversion:
    """The destination refunded the order of ``conversion``: its fee is reversed while
    pending, clawed back once locked or settled; the coins it paid the member are taken back
    as far as they are left (``member_coins``). A flagged conversion leaves the review queue
    (there is nothing left to pay); a rejected one stays rejected. Raises already_refunded."""
    with transaction.atomic():
        conversion = ReferralConversion.objects.select_for_update().get(pk=conversion.pk)
        if conversion.refunded_at is not None:
            raise ApplicationError(ReferralErrorCode.ALREADY_REFUNDED)
        if conversion.state != State.REJECTED:
            conversion.state = State.REFUNDED
        conversion.refunded_at = timezone.now()
        conversion.save(update_fields=["state", "refunded_at"])
        changed = fee_refund(conversion=conversion, reason=reason[:300])
        coins_back = member_coins_take_back(conversion=conversion, actor=actor)
        audit_record(
            action=ReferralAuditAction.CONVERSION_REFUNDED,
            actor=actor,
            partner=conversion.destination,
            target=conversion,
            detail={
                "fee": changed.kind if changed is not None else None,
                "fee_state": changed.state if changed is not None else None,
                "member_coins_recovered": coins_back,
            },
        )
    return conversion
