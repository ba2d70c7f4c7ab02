"""Consent in the alliance console, one module per register: purposes, privacy notices (and
publishing a new version), the consent record, and data-subject requests. Consent rows are
read-only, always: a consent event is never edited or deleted, from here or anywhere (a change
of mind is a new event). Django's admin autodiscovery imports this package."""

from consent.admin import notices, purposes, records, requests

__all__ = ["notices", "purposes", "records", "requests"]
