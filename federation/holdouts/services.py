"""The one write of the holdout domain: a programme's holdout, recorded the first time the
programme asks. Its share comes from ``SANPO_HOLDOUT_PERCENT`` (10 by default) unless the
programme names one; once recorded, nothing changes it."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from federation.holdouts.audit import HoldoutAuditAction
from federation.holdouts.models import Holdout
from federation.holdouts.selectors import holdout_named, is_held_out
from partners.actors import Actor
from partners.models import Partner
from partners.services import audit_record

__all__ = ["held_out", "holdout_for"]


def default_percent() -> Decimal:
    return Decimal(str(getattr(settings, "SANPO_HOLDOUT_PERCENT", 10)))


def holdout_for(
    *,
    kind: str,
    key: str,
    company: Partner,
    percent: Decimal | None = None,
    seed: str | None = None,
    actor: Actor | None = None,
) -> Holdout:
    """``key``'s holdout, recorded now with ``percent`` (or the default) and a random seed
    (or ``seed``, to reproduce an earlier assignment) if it has none yet. Two programmes
    asking at once record one."""
    existing = holdout_named(key)
    if existing is not None:
        return existing
    share = default_percent() if percent is None else Decimal(percent)
    try:
        with transaction.atomic():
            holdout = Holdout.objects.create(
                kind=kind,
                key=key,
                company=company,
                percent=share,
                **({"seed": seed} if seed else {}),
            )
            audit_record(
                action=HoldoutAuditAction.CREATED,
                actor=actor or Actor.system(),
                partner=company,
                target=holdout,
                detail={"key": key, "kind": kind, "percent": str(share), "seed": holdout.seed},
            )
    except IntegrityError:  # recorded by a programme that asked at the same moment
        return Holdout.objects.get(key=key)
    return holdout


def held_out(
    *, kind: str, key: str, company: Partner, subject_id: object, percent: Decimal | None = None
) -> bool:
    """The one question every feature asks before contacting or rewarding a member (the
    share ``percent``, or the default, recorded the first time the programme asks)."""
    holdout = holdout_for(kind=kind, key=key, company=company, percent=percent)
    return is_held_out(holdout, subject_id)
