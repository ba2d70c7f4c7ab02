"""The audit actions of the consent app, registered in ``ConsentConfig.ready``."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ConsentAuditAction(models.TextChoices):
    NOTICE_PUBLISHED = "notice.published", _("Privacy notice published")
