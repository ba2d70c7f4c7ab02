"""Whose member a company may post coins for or read: its own, by its member number, or
another company's, by the pseudonymous id it was given for that member. Anything else, like
a missing member, is a 404."""

from __future__ import annotations

from contextlib import suppress

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from federation.coins.models import CoinHold, CoinTransaction
from partners.access import access_member_by_number
from partners.errors import not_found, validation_failed
from partners.models import MemberAccount, Partner
from partners.pii import member_id_from_pseudonym


def access_coin_member(
    principal: Partner, *, member_number: str | None, member: str | None
) -> MemberAccount:
    """The member named by exactly one of ``member_number`` (the principal's own) and
    ``member`` (a pseudonymous id the principal was given)."""
    if (member_number is None) == (member is None):
        raise validation_failed("member", _("Give either member_number or member."))
    if member_number is not None:
        return access_member_by_number(principal, member_number)
    assert member is not None
    member_id = member_id_from_pseudonym(member, principal.pk)
    found = (
        MemberAccount.objects.filter(pk=member_id, status=MemberAccount.Status.ACTIVE)
        .exclude(partner=principal)
        .select_related("partner")
        .first()
        if member_id is not None
        else None
    )
    if found is None:
        raise not_found(_("member"))
    return found


def access_purchase(principal: Partner, order_id: str) -> CoinTransaction:
    """The principal's earning for its order ``order_id``; another company's order, like an
    unknown one, is a 404."""
    found = CoinTransaction.objects.filter(
        partner=principal, kind=CoinTransaction.Kind.EARN_PURCHASE, reference=order_id
    ).first()
    if found is None:
        raise not_found(_("order"))
    return found


def access_hold(principal: Partner, hold_id: str) -> CoinHold:
    """A hold at the principal's checkout; another company's, like a missing one, is a 404."""
    found = None
    with suppress(ValueError, ValidationError):
        found = CoinHold.objects.filter(pk=hold_id, merchant=principal).first()
    if found is None:
        raise not_found(_("hold"))
    return found


def access_posting(principal: Partner, transaction_id: str) -> CoinTransaction:
    """A coin transaction the principal posted; any other, like a missing one, is a 404."""
    found = None
    with suppress(ValueError, ValidationError):
        found = CoinTransaction.objects.filter(pk=transaction_id, partner=principal).first()
    if found is None:
        raise not_found(_("transaction"))
    return found
