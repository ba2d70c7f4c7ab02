"""The metrics domain's error codes, registered with the federation app's."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MetricsErrorCode(models.TextChoices):
    NO_HOLDOUT = (
        "no_holdout",
        _("This programme has recorded no holdout group yet: there is nothing to compare with."),
    )


STATUSES: dict[str, int] = {MetricsErrorCode.NO_HOLDOUT: 422}
