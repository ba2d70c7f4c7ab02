"""Shared test factories, one module per app. Rows that carry grants, audit events or hash
chains are made through the services, as production makes them, so a test never sees an object
a service would not have made."""

from tests.factories.consent import grant_consent, make_notice
from tests.factories.federation import coin_terms, flow, make_agreement, make_parties
from tests.factories.partners import (
    MemberFactory,
    UserFactory,
    issue_key,
    make_member,
    make_partner,
    make_staff,
    make_user,
)

__all__ = [
    "MemberFactory",
    "UserFactory",
    "coin_terms",
    "flow",
    "grant_consent",
    "issue_key",
    "make_agreement",
    "make_member",
    "make_notice",
    "make_parties",
    "make_partner",
    "make_staff",
    "make_user",
]
