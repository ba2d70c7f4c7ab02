"""Template filters that name the codes of the consent record in the active language:
``{% load consent_names %}`` then ``{{ partner|partner_name }}``, ``{{ codes|data_items }}``,
``{{ problem|chain_problem }}`` and ``{{ status|consent_status }}``."""

from collections.abc import Iterable

from django import template

from consent import names
from consent.compliance.selectors import ConsentStatus
from consent.services import chain_problem_text
from partners.models import Partner

register = template.Library()


@register.filter
def partner_name(partner: Partner) -> str:
    return names.partner_name(partner)


@register.filter
def data_items(codes: Iterable[str]) -> str:
    return names.data_item_list(codes)


@register.filter
def chain_problem(problem: str) -> str:
    return chain_problem_text(problem)


@register.filter
def consent_status(status: str) -> str:
    return str(ConsentStatus(status).label)
