"""Agreements, written, proposed and signed through the services."""

from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from federation import services
from federation.models import Agreement
from federation.services import PartyInput
from partners.actors import Actor
from partners.models import Partner

SYSTEM = Actor.system()


def flow(provider: Partner, recipient: Partner, purpose: str, *fields: str, **extra: Any) -> Any:
    """One data flow of a terms document."""
    return {
        "provider": provider.slug,
        "recipient": recipient.slug,
        "purpose": purpose,
        "fields": list(fields),
        **extra,
    }


def make_parties(*partners: Partner) -> list[PartyInput]:
    return [PartyInput(p, f"Contact of {p.slug}", f"alliance@{p.slug}.example") for p in partners]


def make_agreement(
    host: Partner,
    *others: Partner,
    terms: Any,
    title: str = "Host and Brand",
    state: str = "active",
    effective_from: date | None = None,
    valid_until: date | None = None,
) -> Agreement:
    """An agreement of ``host`` and ``others`` on ``terms``, taken as far as ``state``
    (``draft``, ``proposed`` or ``active``: signed by every party), from today for a year."""
    today = timezone.localdate()
    agreement = services.agreement_create(
        title=title,
        host=host,
        parties=make_parties(host, *others),
        terms=terms,
        effective_from=effective_from or today,
        valid_until=valid_until or today + timedelta(days=365),
        actor=SYSTEM,
    )
    version = agreement.versions.get()
    if state in ("proposed", "active"):
        version = services.version_propose(version=version, actor=SYSTEM)
    if state == "active":
        for party in (host, *others):
            version = services.version_sign(
                version=version, partner=party, signed_by="Signatory", actor=SYSTEM
            )
    agreement.refresh_from_db()
    return agreement


def coin_terms(
    host: Partner, partner: Partner, *, actions: list[Any] | None = None, **host_program: Any
) -> dict[str, Any]:
    """Terms under which ``partner`` may post coins for ``host``'s members (a coin-exchange
    flow, coin exchange agreed), each with a program: the partner earns 10 coins per 100 yen
    at 0.5 yen a coin; the host's program takes ``host_program``'s settings; ``actions`` is
    the action catalogue."""
    return {
        "data_flows": [flow(host, partner, "coin_exchange", "name")],
        "coin": {
            "exchange": True,
            "programs": {
                host.slug: {"yen_per_coin": "1", "rate_to_shared": "1", **host_program},
                partner.slug: {
                    "yen_per_coin": "0.5",
                    "rate_to_shared": "0.5",
                    "coins_per_100_yen": "10",
                },
            },
            "actions": actions or [],
        },
    }
