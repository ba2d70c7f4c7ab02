"""Settlement's audit actions, registered from its ``registrations``."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SettlementAuditAction(models.TextChoices):
    PERIOD_CREATED = "settlement.period_created", _("Settlement period created")
    COMPUTED = "settlement.computed", _("Settlement computed")
    REVIEW_OPENED = "settlement.review_opened", _("Settlement review opened")
    LOCKED = "settlement.locked", _("Settlement period locked")
    ISSUED = "settlement.statements_issued", _("Settlement statements issued")
    ACKNOWLEDGED = "settlement.statement_acknowledged", _("Settlement statement acknowledged")
    PAYMENT_RECORDED = "settlement.payment_recorded", _("Settlement payment recorded")
    PAID = "settlement.paid", _("Settlement period paid")
    LINE_POSTED = "settlement.line_posted", _("Settlement line posted")
    DISPUTE_RAISED = "settlement.dispute_raised", _("Settlement dispute raised")
    DISPUTE_RESOLVED = "settlement.dispute_resolved", _("Settlement dispute resolved")
