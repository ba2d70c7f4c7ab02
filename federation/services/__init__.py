"""Writes of the federation: agreements (and, as they arrive, enrollment and overlap)."""

from federation.services.agreements import (
    PartyInput,
    agreement_create,
    agreement_resume,
    agreement_suspend,
    agreement_terminate,
    agreements_expire,
    version_draft,
    version_propose,
    version_sign,
    version_update,
    version_withdraw,
)

__all__ = [
    "PartyInput",
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
