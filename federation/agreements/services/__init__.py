"""Writes for agreements, one module per stage: ``drafting`` (a new agreement, an amendment, a
draft changed), ``signing`` (proposing a draft, withdrawing it, each party's signature) and
``lifecycle`` (suspending, resuming, terminating, the daily expiry).

Every transition locks the agreement's row, so two signatures (or a signature and a
suspension) never interleave, and tells every party through its webhooks in the same
transaction (delivered after commit).
"""

from federation.agreements.services.drafting import (
    PartyInput,
    VersionDraft,
    agreement_create,
    version_draft,
    version_update,
)
from federation.agreements.services.lifecycle import (
    agreement_resume,
    agreement_suspend,
    agreement_terminate,
    agreements_expire,
)
from federation.agreements.services.signing import (
    version_propose,
    version_sign,
    version_withdraw,
)

__all__ = [
    "PartyInput",
    "VersionDraft",
    "agreement_create",
    "agreement_resume",
    "agreement_suspend",
    "agreement_terminate",
    "agreements_expire",
    "version_draft",
    "version_propose",
    "version_sign",
    "version_update",
    "version_withdraw",
]
