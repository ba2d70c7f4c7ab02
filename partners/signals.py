"""Signals other apps listen to. ``partners`` sits below ``consent`` and ``federation``, so it
announces what happened to a member and lets the apps above react, rather than calling them."""

from django.dispatch import Signal

# Sent inside the erasure's transaction, after the account's personal data is gone, with
# ``member`` (the erased MemberAccount) and ``actor``. A receiver that raises rolls the
# erasure back, so nothing is left half-erased.
member_erased = Signal()
