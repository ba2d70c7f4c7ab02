"""The alliance managers' console for the federation, one admin module per domain; Django's
admin autodiscovery reads this module."""

from federation.agreements import admin as agreements_admin

__all__ = ["agreements_admin"]
