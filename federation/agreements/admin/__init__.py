"""The alliance managers' console for agreements. Every change goes through
``federation.agreements.services``; versions and parties have no admin of their own, so nothing
but a draft (through the services) is ever edited, and no agreement row is deleted."""

from federation.agreements.admin import agreements

__all__ = ["agreements"]
