"""The holdout domain's audit actions, registered from its ``registrations``."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class HoldoutAuditAction(models.TextChoices):
    CREATED = "holdouts.created", _("Holdout group recorded")
