"""The audit actions of the consent app, registered in ``ConsentConfig.ready``."""

from django.db import models


class ConsentAuditAction(models.TextChoices):
    NOTICE_PUBLISHED = "notice.published", "Privacy notice published"
