"""The alliance managers' console for the federation, one admin module per domain; Django's
admin autodiscovery reads this module."""

from federation.agreements import admin as agreements_admin
from federation.campaigns import admin as campaigns_admin
from federation.coins import admin as coins_admin
from federation.coins import admin_actions as coin_actions_admin
from federation.enrollment import admin as enrollment_admin
from federation.holdouts import admin as holdouts_admin
from federation.metrics import admin as metrics_admin
from federation.overlap import admin as overlap_admin
from federation.referrals import admin as referrals_admin
from federation.settlement import admin as settlement_admin

__all__ = [
    "agreements_admin",
    "campaigns_admin",
    "coin_actions_admin",
    "coins_admin",
    "enrollment_admin",
    "holdouts_admin",
    "metrics_admin",
    "overlap_admin",
    "referrals_admin",
    "settlement_admin",
]
