"""Coins as a company posts them for a member: the program that applies and the gates it
passes at that moment, then earning for a purchase (the rate, the premium cap, the return
window, expiry), a refund of that purchase, and a redemption.

The program is the posting company's, as the agreement terms in force state it:
- for its own member (its member number), the program its latest agreement in force gives it;
- for another company's member (reached under an agreement), the program of the agreement in
  force between the member's company and it for ``coin_exchange``, with coin exchange agreed,
  and only while the member consents to coin exchange with it.

A redemption or a hold at a company spends only the coins of the issuers the member linked
with it (``federation.coins.links``), checked at that moment like the gates above.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.errors import ConsentErrorCode
from consent.selectors import consent_check
from federation.agreements.models import Agreement
from federation.agreements.selectors import (
    active_agreements_of,
    terms_in_force,
    version_in_force,
)
from federation.coins.errors import CoinErrorCode
from federation.coins.links import PURPOSE, linked_issuers
from federation.coins.models import CoinClawback, CoinHold, CoinLot, CoinTransaction
from federation.coins.services.activity import activity_touch
from federation.coins.services.earning import Grant, coins_earn, coins_refund
from federation.coins.services.spending import coins_redeem, hold_authorise
from federation.errors import FederationErrorCode
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import MemberAccount, Partner
from partners.services import member_person, webhook_emit

# Premiums and Representations Act: a purchase's premium is at most 20% of its price, or
# 200 yen for purchases under 1,000 yen.
PREMIUM_SHARE = Decimal("0.2")
PREMIUM_FLOOR_PRICE = Decimal(1000)
PREMIUM_SMALL_CAP = Decimal(200)


@dataclass(frozen=True)
class Program:
    company: Partner
    settings: dict[str, Any]  # the company's program in the terms: yen_per_coin, ...
    agreement: Agreement

    @property
    def yen_per_coin(self) -> Decimal:
        return Decimal(self.settings["yen_per_coin"])


def program_for(company: Partner, member: MemberAccount) -> Program:
    """The program under which ``company`` posts coins for ``member`` now; refuses with
    ``no_agreement`` or ``consent_required`` (checked at this moment)."""
    if member.partner_id == company.pk:
        return _own_program(company)
    terms = terms_in_force(provider=member.partner, recipient=company, purpose=PURPOSE)
    programs = terms.coin["programs"] if terms is not None and terms.coin["exchange"] else {}
    if terms is None or company.slug not in programs:
        raise ApplicationError(
            FederationErrorCode.NO_AGREEMENT,
            _("No agreement in force lets %(company)s exchange coins with this member's company.")
            % {"company": company.slug},
        )
    decision = consent_check(member_id=member.pk, purpose_code=PURPOSE, recipient=company)
    if not decision.allowed:
        raise ApplicationError(
            ConsentErrorCode.CONSENT_REQUIRED,
            _("The member's consent to coin exchange with %(company)s is not in force.")
            % {"company": company.slug},
        )
    return Program(company, programs[company.slug], terms.agreement)


def _own_program(company: Partner) -> Program:
    today = timezone.localdate()
    found: list[tuple[datetime, Agreement, dict[str, Any]]] = []
    for agreement in active_agreements_of(company):
        version = version_in_force(agreement, today)
        if version is not None and company.slug in version.terms["coin"]["programs"]:
            signed = version.signed_at or version.created_at
            found.append((signed, agreement, version.terms["coin"]["programs"]))
    if not found:
        raise ApplicationError(
            FederationErrorCode.NO_AGREEMENT,
            _("No agreement in force gives %(company)s a coin program.")
            % {"company": company.slug},
        )
    _signed, agreement, programs = max(found, key=lambda item: item[0])
    return Program(company, programs[company.slug], agreement)


def purchase_coins(program: Program, amount_yen: Decimal) -> tuple[int, bool]:
    """The whole coins a purchase of ``amount_yen`` earns under ``program``, and whether the
    premium cap cut them."""
    rate = Decimal(program.settings.get("coins_per_100_yen") or 0)
    coins = int((amount_yen * rate / 100).to_integral_value(ROUND_FLOOR))
    cap_yen = amount_yen * PREMIUM_SHARE if amount_yen >= PREMIUM_FLOOR_PRICE else PREMIUM_SMALL_CAP
    most = int((cap_yen / program.yen_per_coin).to_integral_value(ROUND_FLOOR))
    return (most, True) if coins > most else (coins, False)


def coins_earn_for_purchase(
    *,
    company: Partner,
    member: MemberAccount,
    amount_yen: Decimal,
    order_id: str,
    actor: Actor,
    occurred_at: datetime | None = None,
) -> tuple[CoinTransaction | None, int, bool]:
    """Coins for a purchase at ``company``: ``(transaction, coins, capped)``; no transaction
    when the purchase earns nothing. One posting per company and order id (``conflict``)."""
    program = program_for(company, member)
    coins, capped = purchase_coins(program, amount_yen)
    if coins == 0:
        return None, 0, capped
    now = timezone.now()
    window = program.settings.get("pending_days")
    reason = {"order_id": order_id, "amount_yen": str(amount_yen), "capped": capped}
    person = member_person(member)
    grant = Grant(
        person,
        company,
        coins,
        program.yen_per_coin,
        reason={**reason, "occurred_at": (occurred_at or now).isoformat()},
        pending_until=now + timedelta(days=window) if window else None,
        expires_at=_expiry(program, now),
    )
    try:
        with transaction.atomic():
            earned = coins_earn(grant, actor=actor, now=now, reference=order_id)
            extend_on_activity(program, person, now)
            activity_touch(person, company, occurred_at or now)
            if member.partner_id != company.pk:  # the member's own company hears of it
                webhook_emit(
                    partner=member.partner,
                    event_type="coins.earned",
                    data={
                        "member_number": member.member_number,
                        "company": company.slug,
                        "coins": coins,
                        "transaction_id": str(earned.pk),
                    },
                )
    except IntegrityError:
        raise ApplicationError(
            CoinErrorCode.DUPLICATE_ORDER, extra={"order_id": order_id}
        ) from None
    return earned, coins, capped


def _expiry(program: Program, now: datetime) -> datetime | None:
    days = program.settings.get("expiry_days")
    return now + timedelta(days=days) if days else None


def extend_on_activity(program: Program, person: Any, now: datetime) -> None:
    """Under an expiry counted from the last activity, every unspent coin of this program's
    lots for the member expires that long after now."""
    if program.settings.get("expiry_after_activity") and program.settings.get("expiry_days"):
        CoinLot.objects.filter(person=person, issuer=program.company, remaining__gt=0).update(
            expires_at=now + timedelta(days=program.settings["expiry_days"])
        )


def coins_refund_order(*, earned: CoinTransaction, refund_yen: Decimal | None, actor: Actor) -> Any:
    """Take back the coins of a purchase (``earned``) for its refunded part: ``refund_yen`` of
    the purchase, or all that is not refunded yet when None."""
    lot = CoinLot.objects.get(earned_by=earned)
    paid = Decimal(earned.reason["amount_yen"])
    if refund_yen is None or refund_yen >= paid:  # the whole purchase: whatever is left of it
        asked = CoinClawback.objects.filter(earned_by=earned).aggregate(n=Sum("requested"))
        coins = lot.amount - (asked["n"] or 0)
    else:
        coins = int((lot.amount * refund_yen / paid).to_integral_value(ROUND_FLOOR))
    if coins == 0:
        raise ApplicationError(
            CoinErrorCode.NOTHING_TO_REFUND, extra={"order_id": earned.reference}
        )
    return coins_refund(earned, coins, actor=actor, reason={"order_id": earned.reference})


def coins_redeem_at(
    *, company: Partner, member: MemberAccount, coins: int, reference: str, actor: Actor
) -> CoinTransaction:
    """Spend ``coins`` of the member's at ``company``, past the same gates as earning, and
    only coins of the issuers linked with ``company`` now (``federation.coins.links``): a
    wallet holding more of other issuers' coins is still ``insufficient_coins``. Each other
    company whose coins were spent hears how many (it owes ``company`` their value)."""
    program_for(company, member)
    person = member_person(member)
    with transaction.atomic():
        spent = coins_redeem(
            person,
            company,
            coins,
            actor=actor,
            reason={"reference": reference},
            issuers=linked_issuers(company, person),
        )
        activity_touch(person, company, spent.posted_at)
        by_issuer: dict[Any, int] = {}
        for use in spent.lot_uses.select_related("issuer"):
            by_issuer[use.issuer] = by_issuer.get(use.issuer, 0) + use.coins
        for issuer, used in by_issuer.items():
            if issuer.pk != company.pk:
                webhook_emit(
                    partner=issuer,
                    event_type="coins.redeemed",
                    data={"company": company.slug, "coins": used, "transaction_id": str(spent.pk)},
                )
    return spent


def coins_hold_at(
    *,
    company: Partner,
    member: MemberAccount,
    coins: int,
    timeout: timedelta,
    reference: str,
    actor: Actor,
) -> CoinHold:
    """Reserve ``coins`` of the member's for a checkout at ``company``, past the same gates as
    a redemption and of the issuers linked with it only; captured, voided or expired later."""
    program_for(company, member)
    person = member_person(member)
    return hold_authorise(
        person,
        company,
        coins,
        actor=actor,
        timeout=timeout,
        reason={"reference": reference},
        issuers=linked_issuers(company, person),
    )
