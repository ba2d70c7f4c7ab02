"""What a company may reach of settlement: its periods past the draft, and the lines it is a
party of. Anything else, like a missing one, is a 404."""

from __future__ import annotations

from contextlib import suppress

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from federation.settlement.models import SettlementLine, SettlementPeriod, SettlementStatement
from federation.settlement.selectors import VISIBLE
from partners.errors import not_found
from partners.models import Partner


def access_period(principal: Partner, period_id: str) -> SettlementPeriod:
    """A period past the draft in which the principal has a statement."""
    found = None
    with suppress(ValueError, ValidationError):
        found = (
            SettlementPeriod.objects.filter(
                pk=period_id, state__in=VISIBLE, statements__partner=principal
            )
            .select_related("host")
            .first()
        )
    if found is None:
        raise not_found(_("settlement period"))
    return found


def access_statement(principal: Partner, period_id: str) -> SettlementStatement:
    """The principal's own statement of a period it may see; nobody else's exists to it."""
    period = access_period(principal, period_id)
    return SettlementStatement.objects.select_related(
        "period__host", "partner", "payment", "acknowledgement"
    ).get(period=period, partner=principal)


def access_line(principal: Partner, line_id: str) -> SettlementLine:
    """A line the principal is a party of, of a period past the draft."""
    found = None
    if (
        line_id.isascii() and line_id.isdigit() and len(line_id) <= 18
    ):  # a bigint; anything else names no line
        found = (
            SettlementLine.objects.filter(pk=int(line_id))
            .filter(period__state__in=VISIBLE)
            .filter(Q(debtor=principal) | Q(creditor=principal))
            .select_related("period", "debtor", "creditor")
            .first()
        )
    if found is None:
        raise not_found(_("settlement line"))
    return found


def access_period_as_host(principal: Partner, period_id: str) -> SettlementPeriod:
    """A period of the principal's own alliance, for the host's moves. A company that is not
    the period's host finds none, as if it were missing."""
    found = None
    with suppress(ValueError, ValidationError):
        found = (
            SettlementPeriod.objects.filter(pk=period_id, host=principal)
            .select_related("host")
            .first()
        )
    if found is None:
        raise not_found(_("settlement period"))
    return found


def access_statement_as_host(period: SettlementPeriod, company_slug: str) -> SettlementStatement:
    """The statement of ``company_slug`` in a period the caller hosts."""
    found = (
        SettlementStatement.objects.filter(period=period, partner__slug=company_slug)
        .select_related("period__host", "partner")
        .first()
    )
    if found is None:
        raise not_found(_("settlement statement"))
    return found
