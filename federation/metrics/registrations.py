"""What the metrics domain adds to the registries below it, from ``FederationConfig.ready``:
its error codes."""

from federation.metrics.errors import STATUSES, MetricsErrorCode
from partners.errors import register_error_codes


def register() -> None:
    register_error_codes(MetricsErrorCode, STATUSES)
