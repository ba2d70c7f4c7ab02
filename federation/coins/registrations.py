"""What the coin domain adds to the registries below it, from ``FederationConfig.ready``: its
error codes."""

from federation.coins.errors import STATUSES, CoinErrorCode
from partners.errors import register_error_codes


def register() -> None:
    register_error_codes(CoinErrorCode, STATUSES)
