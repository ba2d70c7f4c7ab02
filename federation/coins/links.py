"""Which companies' coins a company may show and spend for a member: the links the member made.

A person's wallet holds every coin they earned anywhere, but a company sees and spends only
the coins of the issuers the member linked with it. For company C, the issuer X of some of
the person's coins is linked when, at this moment, both hold:

- the agreement terms in force between X and C for ``coin_exchange`` (a flow either way)
  agree coin exchange, with a program for each of them; and
- the member consents to coin exchange between them: their member account at X consents to
  ``coin_exchange`` with C, or their member account at C consents to it with X.

C's own coins are always its own to show and spend. Nothing is cached: every question reads
the agreements and the consents again, so a withdrawn consent or a suspended agreement hides
the coins at once. The cost is bounded by the person's distinct issuers, not by their lots
or history: one query for those issuers, one for the person's member accounts at them, then
per other issuer its consent checks and its terms in force (a few queries each).

What C is shown of the member's history follows from the same links (``coin_links`` with
``history=True``): when every company in the member's history is linked, all of it, with the
balance after each entry; otherwise only the entries of transactions posted by C or by a
linked company (or by the system) that moved no coin of an unlinked issuer, never a release
batch (it does not say whose coins it released) nor another company's capture of a hold, and
without the balance after (it would reveal the unlinked coins).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from consent.selectors import consent_check
from federation.agreements.selectors import terms_in_force
from federation.coins.models import CoinHold, CoinLot, CoinLotUse, CoinTransaction
from federation.coins.selectors import Balances, balances_of, balances_within
from partners.models import MemberAccount, Partner, Person

PURPOSE = "coin_exchange"


@dataclass(frozen=True)
class Links:
    """The companies whose coins ``company`` may show and spend for a person now
    (``linked``, always with ``company`` itself), and whether they are all the companies
    asked about (``complete``: nothing of the person's is hidden from it)."""

    linked: frozenset[uuid.UUID]
    complete: bool


def linked_issuers(company: Partner, person: Person) -> frozenset[uuid.UUID]:
    """The issuers whose coins ``company`` may show and spend for ``person`` now: itself and
    every issuer of the person's coins (left in lots, or held) linked with it."""
    return coin_links(company, person).linked


def coin_links(company: Partner, person: Person, *, history: bool = False) -> Links:
    """The links of ``company`` for ``person`` over the issuers of the person's coins left or
    held, or (``history``) over every company in the person's coin history."""
    if history:
        posted = CoinTransaction.objects.filter(entries__account__person=person)
        asked = Q(pk__in=posted.values("partner_id")) | Q(
            pk__in=CoinLot.objects.filter(person=person).values("issuer_id")
        )
    else:
        left = CoinLot.objects.filter(person=person, remaining__gt=0).values("issuer_id")
        held_by = CoinHold.objects.filter(person=person, state=CoinHold.State.OPEN)
        held = CoinLotUse.objects.filter(transaction_id__in=held_by.values("held_by_id"))
        asked = Q(pk__in=left) | Q(pk__in=held.values("issuer_id"))
    others = list(Partner.objects.filter(asked).exclude(pk=company.pk))
    linked = {company.pk} | {other.pk for other in _linked(company, person, others)}
    return Links(frozenset(linked), complete=len(linked) == len(others) + 1)


def balances_for(company: Partner, person: Person, links: Links | None = None) -> Balances:
    """The member's available, pending and held coins as ``company`` may see them (``links``,
    when the caller already has them): the account rows, O(1), when every issuer of the
    member's coins is linked; else the linked issuers' lots, bounded by the member's lots
    with coins left."""
    links = links or coin_links(company, person)
    return balances_of(person) if links.complete else balances_within(person, links.linked)


def _linked(company: Partner, person: Person, others: list[Partner]) -> Iterable[Partner]:
    if not others:
        return
    accounts: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    rows = MemberAccount.objects.filter(
        person=person, partner_id__in=[company.pk, *(other.pk for other in others)]
    ).values_list("partner_id", "pk")
    for partner_id, member_id in rows:
        accounts[partner_id].append(member_id)
    for other in others:
        consents = _consents(accounts[other.pk], company) or _consents(accounts[company.pk], other)
        if consents and _exchange_agreed(other, company):
            yield other


def _consents(members: list[uuid.UUID], recipient: Partner) -> bool:
    return any(
        consent_check(member_id=member_id, purpose_code=PURPOSE, recipient=recipient).allowed
        for member_id in members
    )


def _exchange_agreed(one: Partner, other: Partner) -> bool:
    for provider, recipient in ((one, other), (other, one)):
        terms = terms_in_force(provider=provider, recipient=recipient, purpose=PURPOSE)
        if terms is None or not terms.coin["exchange"]:
            continue
        if {one.slug, other.slug} <= set(terms.coin["programs"]):
            return True
    return False
