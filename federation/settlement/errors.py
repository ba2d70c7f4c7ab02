"""Settlement's error codes, registered with the federation app's."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SettlementErrorCode(models.TextChoices):
    PERIOD_OVERLAP = (
        "period_overlap",
        _("This period overlaps another settlement period of the alliance."),
    )
    PERIOD_STATE = "period_state", _("The settlement period is not in a state that allows this.")
    PERIOD_NOT_OVER = "period_not_over", _("The settlement period has not ended yet.")
    DISPUTES_OPEN = "disputes_open", _("Disputes of this period are still open.")
    NO_OPEN_PERIOD = (
        "no_open_period",
        _("There is no open settlement period after this one to post into."),
    )
    DISPUTE_RESOLVED = "dispute_resolved", _("This dispute was already resolved.")
    ALREADY_DISPUTED = "already_disputed", _("Your company already has an open dispute on it.")
    STATEMENT_ISSUED = "statement_issued", _("An issued statement can never be changed.")
    ALREADY_ACKNOWLEDGED = (
        "already_acknowledged",
        _("Your company already acknowledged this statement."),
    )


STATUSES: dict[str, int] = {
    SettlementErrorCode.PERIOD_OVERLAP: 409,
    SettlementErrorCode.PERIOD_STATE: 409,
    SettlementErrorCode.PERIOD_NOT_OVER: 409,
    SettlementErrorCode.DISPUTES_OPEN: 409,
    SettlementErrorCode.NO_OPEN_PERIOD: 409,
    SettlementErrorCode.DISPUTE_RESOLVED: 409,
    SettlementErrorCode.ALREADY_DISPUTED: 409,
    SettlementErrorCode.STATEMENT_ISSUED: 409,
    SettlementErrorCode.ALREADY_ACKNOWLEDGED: 409,
}
